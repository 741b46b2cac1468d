package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// handleDeliverFrom handles
//
//	deliver-from <from> <to>
//
// It delivers to node to only the messages in flight that node from sent
// it, in order, and leaves every other message in flight. Scripts use it to
// hold some messages back, late in the network, while the rest of the
// cluster moves on. Isolation applies as in deliver-msgs.
func (env *InteractionEnv) handleDeliverFrom(t *testing.T, d datadriven.TestData) error {
	args := positionalIDs(t, d, 2)
	_, err := env.DeliverFrom(args[0], args[1])
	return err
}

// DeliverFrom steps into node to the messages in flight from node from to
// it, in the order they were sent, and returns how many it delivered.
func (env *InteractionEnv) DeliverFrom(from, to uint64) (int, error) {
	n, err := env.node(to)
	if err != nil {
		return 0, err
	}
	var taken []*raftpb.Message
	kept := env.Messages[:0]
	for _, m := range env.Messages {
		if m.From == from && m.To == to {
			taken = append(taken, m)
		} else {
			kept = append(kept, m)
		}
	}
	clear(env.Messages[len(kept):])
	env.Messages = kept
	delivered := 0
	for _, m := range taken {
		if n.Isolated || env.isIsolated(m.From) {
			env.Output.Linef("dropped (isolated): %s", raftpb.DescribeMessage(m, nil))
			continue
		}
		env.Output.Line(raftpb.DescribeMessage(m, nil))
		if err := n.Step(proto.Clone(m).(*raftpb.Message)); err != nil {
			env.Output.Linef("error stepping message: %v", err)
		}
		delivered++
	}
	return delivered, nil
}
