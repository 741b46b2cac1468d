package rafttest

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleStabilize handles
//
//	stabilize [ids...]
//
// It moves all work along among the listed nodes (all nodes if none are
// listed) until there is none left; see Stabilize.
func (env *InteractionEnv) handleStabilize(t *testing.T, d datadriven.TestData) error {
	return env.Stabilize(env.nodeIDsOrAll(t, d)...)
}

// maxStabilizeRounds bounds Stabilize: a cluster that keeps producing work
// for this many rounds is livelocked, which is a bug worth a clear error.
const maxStabilizeRounds = 1000

// Stabilize repeats rounds until one finds nothing to do. In a round every
// listed node handles its Ready if it has one, then receives the messages
// in flight to it, then (AsyncStorageWrites) its append thread and its
// apply thread catch up, each phase in node order. Messages to nodes not
// listed stay in flight. Everything is printed under a heading saying
// which node did what.
func (env *InteractionEnv) Stabilize(ids ...uint64) error {
	nodes := make([]*Node, 0, len(ids))
	for _, id := range ids {
		n, err := env.node(id)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	for range maxStabilizeRounds {
		progressed, err := env.stabilizeRound(nodes)
		if err != nil || !progressed {
			return err
		}
	}
	return fmt.Errorf("stabilize: still busy after %d rounds", maxStabilizeRounds)
}

// stabilizeRound runs one round of Stabilize and reports whether anything
// was done.
func (env *InteractionEnv) stabilizeRound(nodes []*Node) (bool, error) {
	type phase struct {
		heading string
		pending func(n *Node) bool
		run     func(id uint64) error
	}
	phases := []phase{
		{"handling Ready", func(n *Node) bool { return n.HasReady() }, env.ProcessReady},
		{"receiving messages", env.hasMsgsTo, func(id uint64) error {
			_, err := env.DeliverMsgs(id)
			return err
		}},
		{"processing append thread", func(n *Node) bool { return len(n.AppendWork) > 0 },
			func(id uint64) error { return env.ProcessAppendThread(id, -1) }},
		{"processing apply thread", func(n *Node) bool { return len(n.ApplyWork) > 0 },
			func(id uint64) error { return env.ProcessApplyThread(id, -1) }},
	}
	progressed := false
	for _, p := range phases {
		for _, n := range nodes {
			if !p.pending(n) {
				continue
			}
			progressed = true
			id := n.Config.ID
			env.Output.Linef("> %d %s", id, p.heading)
			if err := env.Output.Indented(func() error { return p.run(id) }); err != nil {
				return progressed, err
			}
		}
	}
	return progressed, nil
}

// hasMsgsTo reports whether messages are in flight to n.
func (env *InteractionEnv) hasMsgsTo(n *Node) bool {
	for _, m := range env.Messages {
		if m.To == n.Config.ID {
			return true
		}
	}
	return false
}
