package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleTick handles
//
//	tick <ids...> [n=N]
//	tick-election <ids...>
//	tick-heartbeat <ids...>
//
// Each node's clock advances by n ticks (default 1), by its ElectionTick,
// or by its HeartbeatTick. A follower's election timeout is randomized in
// [ElectionTick, 2*ElectionTick), so one tick-election may or may not make
// it campaign; a leader's check-quorum round runs every ElectionTick. The
// randomness is the node's default source, seeded from its ID, so a
// script's outcome is the same every run.
func (env *InteractionEnv) handleTick(t *testing.T, d datadriven.TestData) error {
	ids := nodeIDs(t, d)
	if len(ids) == 0 {
		d.Fatalf(t, "%s: name the nodes to tick", d.Cmd)
	}
	count := 1
	d.MaybeScanArgs(t, "n", &count)
	for _, id := range ids {
		n, err := env.node(id)
		if err != nil {
			return err
		}
		ticks := count
		switch d.Cmd {
		case "tick-election":
			ticks = n.Config.ElectionTick
		case "tick-heartbeat":
			ticks = n.Config.HeartbeatTick
		}
		if err := env.Tick(id, ticks); err != nil {
			return err
		}
	}
	return nil
}

// Tick advances node id's clock by ticks ticks.
func (env *InteractionEnv) Tick(id uint64, ticks int) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	for range ticks {
		n.RawNode.Tick()
	}
	return nil
}
