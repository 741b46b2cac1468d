package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleProcessApplyThread handles
//
//	process-apply-thread [count=N] <ids...>
//
// For nodes with AsyncStorageWrites: each node's apply thread performs its
// queued MsgStorageApply messages (at most count of them, default all),
// oldest first; see ProcessApplyThread.
func (env *InteractionEnv) handleProcessApplyThread(t *testing.T, d datadriven.TestData) error {
	return env.runThread(t, d, "apply", env.ProcessApplyThread)
}

// ProcessApplyThread performs up to count (all, if negative) of node id's
// queued MsgStorageApply messages, oldest first: it applies the committed
// entries each carries and then steps its responses (the
// MsgStorageApplyResp) into the node.
func (env *InteractionEnv) ProcessApplyThread(id uint64, count int) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	if len(n.ApplyWork) == 0 {
		env.Output.Line("no apply work to perform")
		return nil
	}
	for done := 0; len(n.ApplyWork) > 0 && done != count; done++ {
		m := n.ApplyWork[0]
		n.ApplyWork = n.ApplyWork[1:]
		env.Output.Linef("Processing: %s", describeWithoutResponses(m))
		if err := n.apply(env.Output, m.Entries); err != nil {
			return err
		}
		env.handleResponses(n, m.Responses)
	}
	return nil
}
