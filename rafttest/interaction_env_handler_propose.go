package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handlePropose handles
//
//	propose <id> <data>
//
// The node proposes an entry with the given data. A dropped proposal
// prints the error.
func (env *InteractionEnv) handlePropose(t *testing.T, d datadriven.TestData) error {
	id, data := idAndWord(t, d)
	return env.Propose(id, []byte(data))
}

// Propose proposes data on node id.
func (env *InteractionEnv) Propose(id uint64, data []byte) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	return n.RawNode.Propose(data)
}
