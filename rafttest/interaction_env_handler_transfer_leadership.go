package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleTransferLeadership handles
//
//	transfer-leadership from=<id> to=<id>
//
// Node from (normally the leader; a follower forwards the request to its
// leader) is asked to hand leadership to node to.
func (env *InteractionEnv) handleTransferLeadership(t *testing.T, d datadriven.TestData) error {
	var from, to uint64
	d.ScanArgs(t, "from", &from)
	d.ScanArgs(t, "to", &to)
	return env.TransferLeadership(from, to)
}

// TransferLeadership asks node from to transfer leadership to node to.
func (env *InteractionEnv) TransferLeadership(from, to uint64) error {
	n, err := env.node(from)
	if err != nil {
		return err
	}
	n.TransferLeader(to)
	return nil
}
