package rafttest

import (
	"slices"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft"
)

// handleStatus handles
//
//	status <id>
//
// On a leader it prints the progress of every peer, one per line in ID
// order, e.g.
//
//	2: StateReplicate match=11 next=15 paused inflight=3[full]
//
// and an ongoing leadership transfer. Other nodes only say what they are.
func (env *InteractionEnv) handleStatus(t *testing.T, d datadriven.TestData) error {
	return env.Status(positionalIDs(t, d, 1)[0])
}

// Status prints node id's progress map.
func (env *InteractionEnv) Status(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	st := n.RawNode.Status()
	if st.RaftState != raft.StateLeader {
		env.Output.Linef("%d is %s at term %d, not the leader: no progress to show", id, st.RaftState, st.Term)
		return nil
	}
	ids := make([]uint64, 0, len(st.Progress))
	for pid := range st.Progress {
		ids = append(ids, pid)
	}
	slices.Sort(ids)
	for _, pid := range ids {
		pr := st.Progress[pid]
		env.Output.Linef("%d: %s", pid, &pr)
	}
	if st.LeadTransferee != raft.None {
		env.Output.Linef("transferring leadership to %d", st.LeadTransferee)
	}
	return nil
}
