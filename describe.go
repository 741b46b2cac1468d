package raft

import (
	"fmt"
	"strings"

	"github.com/seed901663da/raft/raftpb"
)

// DescribeSoftState renders a SoftState compactly for logs and tests.
func DescribeSoftState(ss SoftState) string {
	return fmt.Sprintf("Lead:%d State:%s", ss.Lead, ss.RaftState)
}

// DescribeReady renders a Ready for logs and test output, one part per
// line, with entries formatted by f (nil prints data quoted).
func DescribeReady(rd Ready, f raftpb.EntryFormatter) string {
	var b strings.Builder
	if rd.SoftState != nil {
		b.WriteString(DescribeSoftState(*rd.SoftState))
		b.WriteByte('\n')
	}
	if rd.HardState != nil {
		fmt.Fprintf(&b, "HardState %s\n", raftpb.DescribeHardState(rd.HardState))
	}
	if len(rd.ReadStates) > 0 {
		fmt.Fprintf(&b, "ReadStates %s\n", DescribeReadStates(rd.ReadStates))
	}
	if len(rd.Entries) > 0 {
		b.WriteString("Entries:\n")
		b.WriteString(raftpb.DescribeEntries(rd.Entries, f))
	}
	if rd.Snapshot != nil {
		fmt.Fprintf(&b, "Snapshot %s\n", raftpb.DescribeSnapshot(rd.Snapshot))
	}
	if len(rd.CommittedEntries) > 0 {
		b.WriteString("CommittedEntries:\n")
		b.WriteString(raftpb.DescribeEntries(rd.CommittedEntries, f))
	}
	if len(rd.Messages) > 0 {
		b.WriteString("Messages:\n")
		for _, m := range rd.Messages {
			b.WriteString(raftpb.DescribeMessage(m, f))
			b.WriteByte('\n')
		}
	}
	if b.Len() > 0 {
		return fmt.Sprintf("Ready MustSync=%t:\n%s", rd.MustSync, b.String())
	}
	return "<empty Ready>"
}

// DescribeReadStates renders read states as [index "ctx" ...].
func DescribeReadStates(rss []ReadState) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, rs := range rss {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%q", rs.Index, rs.RequestCtx)
	}
	b.WriteByte(']')
	return b.String()
}
