package main

import (
	"fmt"
	"testing"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

func TestSplitCommitted(t *testing.T) {
	ents := func(lo, hi uint64) []*raftpb.Entry {
		var out []*raftpb.Entry
		for i := lo; i <= hi; i++ {
			out = append(out, &raftpb.Entry{Index: i, Term: 1})
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		rd           raft.Ready
		nNow, nLater int
	}{
		{"no new entries: all now", raft.Ready{CommittedEntries: ents(1, 3)}, 3, 0},
		{"all before the new entries", raft.Ready{CommittedEntries: ents(1, 3), Entries: ents(4, 5)}, 3, 0},
		// Single-node or synchronous commit: entries committed in the
		// Ready that carries them wait for the write.
		{"some among the new entries", raft.Ready{CommittedEntries: ents(1, 5), Entries: ents(4, 6)}, 3, 2},
		{"all among the new entries", raft.Ready{CommittedEntries: ents(4, 5), Entries: ents(4, 6)}, 0, 2},
		{"snapshot: all wait", raft.Ready{CommittedEntries: ents(11, 12), Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 10}}}, 0, 2},
	} {
		now, later := splitCommitted(&tc.rd)
		if len(now) != tc.nNow || len(later) != tc.nLater {
			t.Errorf("%s: %d now, %d later; want %d, %d", tc.name, len(now), len(later), tc.nNow, tc.nLater)
		}
	}
}

// TestSplitForwarded checks that only proposals and read requests go
// before the fsync on a follower (a vote or an append acknowledgement sent
// early would promise what is not yet durable), in their order.
func TestSplitForwarded(t *testing.T) {
	m := func(typ raftpb.MessageType, idx uint64) *raftpb.Message {
		return &raftpb.Message{Type: typ, Index: idx}
	}
	str := func(ms []*raftpb.Message) string {
		out := ""
		for _, m := range ms {
			out += fmt.Sprintf("%v/%d ", m.Type, m.Index)
		}
		return out
	}
	for _, tc := range []struct {
		in         []*raftpb.Message
		fwd, later string
	}{
		{nil, "", ""},
		{[]*raftpb.Message{m(raftpb.MsgAppResp, 1), m(raftpb.MsgVoteResp, 2)}, "", "MsgAppResp/1 MsgVoteResp/2 "},
		{[]*raftpb.Message{m(raftpb.MsgProp, 1), m(raftpb.MsgReadIndex, 2)}, "MsgProp/1 MsgReadIndex/2 ", ""},
		{
			[]*raftpb.Message{m(raftpb.MsgProp, 1), m(raftpb.MsgAppResp, 2), m(raftpb.MsgReadIndex, 3), m(raftpb.MsgHeartbeatResp, 4), m(raftpb.MsgProp, 5)},
			"MsgProp/1 MsgReadIndex/3 MsgProp/5 ", "MsgAppResp/2 MsgHeartbeatResp/4 ",
		},
	} {
		fwd, later := splitForwarded(tc.in)
		if str(fwd) != tc.fwd || str(later) != tc.later {
			t.Errorf("splitForwarded(%s) = %q, %q; want %q, %q", str(tc.in), str(fwd), str(later), tc.fwd, tc.later)
		}
	}
}
