package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// handleProcessAppendThread handles
//
//	process-append-thread [count=N] <ids...>
//
// For nodes with AsyncStorageWrites: each node's append thread performs
// its queued MsgStorageAppend messages (at most count of them, default
// all), oldest first; see ProcessAppendThread.
func (env *InteractionEnv) handleProcessAppendThread(t *testing.T, d datadriven.TestData) error {
	return env.runThread(t, d, "append", env.ProcessAppendThread)
}

// runThread parses the arguments common to the two storage thread
// commands and runs do for every node listed.
func (env *InteractionEnv) runThread(t *testing.T, d datadriven.TestData, name string,
	do func(id uint64, count int) error) error {
	count := -1
	d.MaybeScanArgs(t, "count", &count)
	return env.eachNode(nodeIDs(t, d), "processing "+name+" thread", func(id uint64) error { return do(id, count) })
}

// ProcessAppendThread performs up to count (all, if negative) of node id's
// queued MsgStorageAppend messages, oldest first: it persists the
// snapshot, entries and hard state each carries, then handles its
// responses, now that what they acknowledge is durable. Responses to the
// node itself (its own append and vote acknowledgements, the
// MsgStorageAppendResp) are stepped into it at once; the others go in
// flight to their peers.
func (env *InteractionEnv) ProcessAppendThread(id uint64, count int) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	if len(n.AppendWork) == 0 {
		env.Output.Line("no append work to perform")
		return nil
	}
	for done := 0; len(n.AppendWork) > 0 && done != count; done++ {
		m := n.AppendWork[0]
		n.AppendWork = n.AppendWork[1:]
		env.Output.Linef("Processing: %s", describeWithoutResponses(m))
		var hs *raftpb.HardState
		if m.Term != 0 {
			hs = &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
		}
		if err := n.persist(hs, m.Entries, m.Snapshot); err != nil {
			return err
		}
		env.handleResponses(n, m.Responses)
	}
	return nil
}

// describeWithoutResponses describes a storage message; its responses are
// printed one per line as they are handled.
func describeWithoutResponses(m *raftpb.Message) string {
	c := proto.Clone(m).(*raftpb.Message)
	c.Responses = nil
	return raftpb.DescribeMessage(c, nil)
}

// handleResponses hands out the responses of a storage message: those to
// node n are stepped into it, the others go in flight.
func (env *InteractionEnv) handleResponses(n *Node, resps []*raftpb.Message) {
	if len(resps) == 0 {
		return
	}
	env.Output.Line("Responses:")
	_ = env.Output.Indented(func() error {
		for _, r := range resps {
			env.Output.Line(raftpb.DescribeMessage(r, nil))
			if r.To != n.Config.ID {
				env.Messages = append(env.Messages, r)
				continue
			}
			if err := n.Step(r); err != nil {
				env.Output.Linef("error stepping response: %v", err)
			}
		}
		return nil
	})
}
