package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

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
	return env.stepMsgs(n, env.takeMsgs(-1, func(m *raftpb.Message) bool {
		return m.From == from && m.To == to
	})), nil
}
