package main

import (
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
