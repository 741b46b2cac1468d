package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleReadIndex handles
//
//	read-index <id> <ctx>
//
// The node requests a read index, identified by ctx. The answer shows up
// as a ReadState in a later Ready of the node.
func (env *InteractionEnv) handleReadIndex(t *testing.T, d datadriven.TestData) error {
	id, ctx := idAndWord(t, d)
	return env.ReadIndex(id, []byte(ctx))
}

// ReadIndex requests a read index on node id.
func (env *InteractionEnv) ReadIndex(id uint64, ctx []byte) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	n.RawNode.ReadIndex(ctx)
	return nil
}
