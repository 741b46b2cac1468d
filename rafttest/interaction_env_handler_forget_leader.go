package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleForgetLeader handles
//
//	forget-leader <id>
//
// The node forgets its leader, as an application does when it knows the
// leader is gone, so that it grants votes without waiting for the lease
// to run out.
func (env *InteractionEnv) handleForgetLeader(t *testing.T, d datadriven.TestData) error {
	return env.ForgetLeader(positionalIDs(t, d, 1)[0])
}

// ForgetLeader makes node id forget its leader.
func (env *InteractionEnv) ForgetLeader(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	return n.RawNode.ForgetLeader()
}
