package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleReportUnreachable handles
//
//	report-unreachable <from> <to>
//
// Node from (a leader) is told that its last message to node to could not
// be delivered, as a transport would report it.
func (env *InteractionEnv) handleReportUnreachable(t *testing.T, d datadriven.TestData) error {
	args := positionalIDs(t, d, 2)
	return env.ReportUnreachable(args[0], args[1])
}

// ReportUnreachable tells node from that node to is unreachable.
func (env *InteractionEnv) ReportUnreachable(from, to uint64) error {
	n, err := env.node(from)
	if err != nil {
		return err
	}
	n.RawNode.ReportUnreachable(to)
	return nil
}
