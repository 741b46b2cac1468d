package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleConfState handles
//
//	conf-state [ids...]
//
// It prints each node's membership configuration as the node itself sees
// it (all nodes if none are listed), joint halves and learners included,
// e.g.
//
//	1: voters=(1 3 4)&&(1 2 3) learners_next=(2)
//
// Unlike raft-state it shows a joint configuration for what it is.
func (env *InteractionEnv) handleConfState(t *testing.T, d datadriven.TestData) error {
	return env.ConfState(env.nodeIDsOrAll(t, d)...)
}

// ConfState prints the configuration each of the nodes ids is in.
func (env *InteractionEnv) ConfState(ids ...uint64) error {
	for _, id := range ids {
		n, err := env.node(id)
		if err != nil {
			return err
		}
		st := n.RawNode.Status()
		env.Output.Linef("%d: %s", id, st.Config.String())
	}
	return nil
}
