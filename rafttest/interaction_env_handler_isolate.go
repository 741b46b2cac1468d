package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleIsolate handles
//
//	isolate <ids...>
//	heal [ids...]
//
// isolate cuts nodes off from everyone: from then on deliver-msgs (and so
// stabilize) drops every message from or to them, including those already
// in flight. heal reconnects the listed nodes, or all of them.
func (env *InteractionEnv) handleIsolate(t *testing.T, d datadriven.TestData) error {
	ids := nodeIDs(t, d)
	isolate := d.Cmd == "isolate"
	if isolate && len(ids) == 0 {
		d.Fatalf(t, "isolate: name the nodes to isolate")
	}
	if len(ids) == 0 {
		for _, n := range env.Nodes {
			n.Isolated = false
		}
		return nil
	}
	for _, id := range ids {
		if err := env.SetIsolated(id, isolate); err != nil {
			return err
		}
	}
	return nil
}

// SetIsolated isolates node id from all others, or reconnects it.
func (env *InteractionEnv) SetIsolated(id uint64, isolated bool) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	n.Isolated = isolated
	return nil
}
