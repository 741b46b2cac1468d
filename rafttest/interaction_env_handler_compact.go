package rafttest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft"
)

// handleCompact handles
//
//	compact <id> <index>
//
// The node snapshots its state machine as of index (which it must have
// applied) and discards its log up to and including index, then prints
// what is left of the log. A follower that later needs a discarded entry
// gets the snapshot instead.
func (env *InteractionEnv) handleCompact(t *testing.T, d datadriven.TestData) error {
	args := positionalIDs(t, d, 2)
	if err := env.Compact(args[0], args[1]); err != nil {
		return err
	}
	return env.RaftLog(args[0])
}

// Compact creates a snapshot of node id at index, with the configuration
// in force after index, and compacts the log up to index.
func (env *InteractionEnv) Compact(id, index uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	st := n.stateAt(index)
	if st == nil {
		return fmt.Errorf("node %d has not applied index %d (or skipped it by a snapshot); applied is %d",
			id, index, n.BasicStatus().Applied)
	}
	_, err = n.Storage.CreateSnapshot(index, st.Metadata.ConfState, st.Data)
	if err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		return err
	}
	return n.Storage.Compact(index)
}
