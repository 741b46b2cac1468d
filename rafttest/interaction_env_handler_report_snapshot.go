package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft"
)

// handleReportSnapshot handles
//
//	report-snapshot <from> <to> status=finish|failure
//
// Node from (a leader) is told how sending a snapshot to node to ended,
// as the application reports it once the transport is done.
func (env *InteractionEnv) handleReportSnapshot(t *testing.T, d datadriven.TestData) error {
	args := positionalIDs(t, d, 2)
	var status string
	d.ScanArgs(t, "status", &status)
	var s raft.SnapshotStatus
	switch status {
	case "finish":
		s = raft.SnapshotFinish
	case "failure":
		s = raft.SnapshotFailure
	default:
		d.Fatalf(t, "report-snapshot: status=%s: want finish or failure", status)
	}
	return env.ReportSnapshot(args[0], args[1], s)
}

// ReportSnapshot reports to node from how sending a snapshot to node to
// ended.
func (env *InteractionEnv) ReportSnapshot(from, to uint64, status raft.SnapshotStatus) error {
	n, err := env.node(from)
	if err != nil {
		return err
	}
	n.RawNode.ReportSnapshot(to, status)
	return nil
}
