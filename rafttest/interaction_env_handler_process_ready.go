package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// handleProcessReady handles
//
//	process-ready <ids...>
//
// Each node takes one Ready and handles it as the package documentation of
// raft says, printing it first.
func (env *InteractionEnv) handleProcessReady(t *testing.T, d datadriven.TestData) error {
	return env.eachNode(nodeIDs(t, d), "handling Ready", env.ProcessReady)
}

// eachNode runs do for each of ids in turn, its output indented and, when
// there are several, under a heading "> id what".
func (env *InteractionEnv) eachNode(ids []uint64, what string, do func(id uint64) error) error {
	for _, id := range ids {
		if len(ids) > 1 {
			env.Output.Linef("> %d %s", id, what)
		}
		if err := env.Output.Indented(func() error { return do(id) }); err != nil {
			return err
		}
	}
	return nil
}

// ProcessReady takes a Ready from node id and handles it. In the
// synchronous mode the node persists the Ready, queues its messages,
// applies the committed entries and calls Advance. With
// AsyncStorageWrites, the storage work is queued for the node's append and
// apply threads instead (see ProcessAppendThread) and the other messages
// go in flight.
func (env *InteractionEnv) ProcessReady(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	rd := n.Ready()
	env.Output.Line(raft.DescribeReady(rd, nil))
	if !n.Config.AsyncStorageWrites {
		if err := n.persist(rd.HardState, rd.Entries, rd.Snapshot); err != nil {
			return err
		}
	}
	env.queue(n, rd.Messages)
	if !n.Config.AsyncStorageWrites {
		if err := n.apply(env.Output, rd.CommittedEntries); err != nil {
			return err
		}
		n.Advance(rd)
	}
	return nil
}

// queue routes messages from node n: storage work to its local threads,
// the rest in flight.
func (env *InteractionEnv) queue(n *Node, msgs []*raftpb.Message) {
	for _, m := range msgs {
		switch m.To {
		case raft.LocalAppendThread:
			n.AppendWork = append(n.AppendWork, m)
		case raft.LocalApplyThread:
			n.ApplyWork = append(n.ApplyWork, m)
		default:
			env.Messages = append(env.Messages, m)
		}
	}
}
