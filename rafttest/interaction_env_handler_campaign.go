package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleCampaign handles
//
//	campaign <id>
//
// The node starts an election (a pre-election with PreVote) as if its
// election timeout had fired.
func (env *InteractionEnv) handleCampaign(t *testing.T, d datadriven.TestData) error {
	return env.Campaign(positionalIDs(t, d, 1)[0])
}

// Campaign makes node id campaign.
func (env *InteractionEnv) Campaign(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	return n.Campaign()
}
