package rafttest

import (
	"slices"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// handleDeliverMsgs handles
//
//	deliver-msgs [drop=(ids)] [type=MsgApp] [count=N] <ids...>
//
// It delivers the messages in flight to each listed node, in the order
// they were sent, and throws away those to the nodes listed in drop.
// type=(...) restricts both to messages of the given types; the others
// stay in flight. count=N takes only the N oldest such messages per node
// (default: all). A message from or to an isolated node is dropped rather
// than delivered.
func (env *InteractionEnv) handleDeliverMsgs(t *testing.T, d datadriven.TestData) error {
	var types []raftpb.MessageType
	if arg, ok := d.Arg("type"); ok {
		for _, name := range arg.Vals {
			v, ok := raftpb.MessageType_value[name]
			if !ok {
				d.Fatalf(t, "deliver-msgs: unknown message type %q", name)
			}
			types = append(types, raftpb.MessageType(v))
		}
	}
	count := -1
	d.MaybeScanArgs(t, "count", &count)
	drop, ids := idsArg(t, d, "drop"), nodeIDs(t, d)
	if len(drop)+len(ids) == 0 {
		d.Fatalf(t, "deliver-msgs: name the nodes to deliver to, or drop=(ids)")
	}
	for _, id := range drop {
		env.dropMsgs(id, count, types...)
	}
	for _, id := range ids {
		if slices.Contains(drop, id) {
			d.Fatalf(t, "deliver-msgs: node %d is both delivered to and dropped", id)
		}
		if _, err := env.deliverMsgs(id, count, types...); err != nil {
			return err
		}
	}
	return nil
}

// takeMsgs removes from the messages in flight the first count (all if
// count < 0) of those that match, and returns them in order.
func (env *InteractionEnv) takeMsgs(count int, match func(*raftpb.Message) bool) []*raftpb.Message {
	var taken []*raftpb.Message
	kept := env.Messages[:0]
	for _, m := range env.Messages {
		if count != len(taken) && match(m) {
			taken = append(taken, m)
		} else {
			kept = append(kept, m)
		}
	}
	clear(env.Messages[len(kept):])
	env.Messages = kept
	return taken
}

// toOfType matches the messages to node to of one of types (any type if
// none).
func toOfType(to uint64, types []raftpb.MessageType) func(*raftpb.Message) bool {
	return func(m *raftpb.Message) bool {
		return m.To == to && (len(types) == 0 || slices.Contains(types, m.Type))
	}
}

// DropMsgs throws away the messages in flight to node to (of one of types,
// if given), printing each.
func (env *InteractionEnv) DropMsgs(to uint64, types ...raftpb.MessageType) {
	env.dropMsgs(to, -1, types...)
}

func (env *InteractionEnv) dropMsgs(to uint64, count int, types ...raftpb.MessageType) {
	for _, m := range env.takeMsgs(count, toOfType(to, types)) {
		env.Output.Linef("dropped: %s", raftpb.DescribeMessage(m, nil))
	}
}

// DeliverMsgs steps the messages in flight to node to (of one of types, if
// given) into it, in order, and returns how many it delivered. Each is
// printed, followed by the node's log lines and any error Step returned.
// Every node gets its own copy of a message, as it would off a network.
func (env *InteractionEnv) DeliverMsgs(to uint64, types ...raftpb.MessageType) (int, error) {
	return env.deliverMsgs(to, -1, types...)
}

func (env *InteractionEnv) deliverMsgs(to uint64, count int, types ...raftpb.MessageType) (int, error) {
	n, err := env.node(to)
	if err != nil {
		return 0, err
	}
	return env.stepMsgs(n, env.takeMsgs(count, toOfType(to, types))), nil
}

// stepMsgs steps msgs into n, in order, and returns how many it delivered.
// A message from or to an isolated node is dropped instead. Each message is
// printed, followed by the node's log lines and any error Step returned.
func (env *InteractionEnv) stepMsgs(n *Node, msgs []*raftpb.Message) int {
	delivered := 0
	for _, m := range msgs {
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
	return delivered
}

// isIsolated reports whether id is an isolated node of the environment.
func (env *InteractionEnv) isIsolated(id uint64) bool {
	n, err := env.node(id)
	return err == nil && n.Isolated
}
