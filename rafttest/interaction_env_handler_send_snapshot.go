package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft/raftpb"
)

// handleSendSnapshot handles
//
//	send-snapshot <from> <to>
//
// It puts in flight a MsgSnap from node from to node to, carrying the
// latest snapshot in from's storage, at from's term; as if the application
// shipped a snapshot outside of raft's own replication. If from leads, the
// message carries the epoch of to's progress so that the leader counts the
// answer.
func (env *InteractionEnv) handleSendSnapshot(t *testing.T, d datadriven.TestData) error {
	args := positionalIDs(t, d, 2)
	return env.SendSnapshot(args[0], args[1])
}

// SendSnapshot queues a MsgSnap with node from's latest snapshot to node to.
func (env *InteractionEnv) SendSnapshot(from, to uint64) error {
	n, err := env.node(from)
	if err != nil {
		return err
	}
	snap, err := n.Storage.Snapshot()
	if err != nil {
		return err
	}
	st := n.RawNode.Status()
	m := &raftpb.Message{Type: raftpb.MsgSnap, From: from, To: to, Term: st.Term, Snapshot: snap}
	if pr, ok := st.Progress[to]; ok {
		m.Epoch = pr.Epoch
	}
	env.Messages = append(env.Messages, m)
	env.Output.Line(raftpb.DescribeMessage(m, nil))
	return nil
}
