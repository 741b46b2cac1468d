package raft

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// index is the index of the first of a run of entries: index(5).terms(1, 2)
// builds entries 5/1 and 6/2.
type index uint64

func (i index) terms(terms ...uint64) []*raftpb.Entry {
	out := make([]*raftpb.Entry, len(terms))
	for j, t := range terms {
		out[j] = &raftpb.Entry{Index: uint64(i) + uint64(j), Term: t}
	}
	return out
}

// entIDs renders entries as "index/term" pairs, for comparisons whose
// failures read well.
func entIDs(ents []*raftpb.Entry) string {
	var b strings.Builder
	for i, e := range ents {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d/%d", e.Index, e.Term)
	}
	return "[" + b.String() + "]"
}

func snapAt(i, t uint64) *raftpb.Snapshot {
	return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index: i, Term: t, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
	}}
}

// mkUnstable returns an unstable log with entries starting at offset and an
// optional snapshot, nothing in progress.
func mkUnstable(offset uint64, snap *raftpb.Snapshot, ents []*raftpb.Entry) unstable {
	return unstable{
		snapshot:         snap,
		entries:          ents,
		offset:           offset,
		offsetInProgress: offset,
		logger:           zap.NewNop(),
	}
}

// expectPanic runs f and fails unless it panics with a message containing
// substr.
func expectPanic(t *testing.T, substr string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", substr)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, substr) {
			t.Fatalf("panic %q does not mention %q", msg, substr)
		}
	}()
	f()
}

func TestUnstableIndexesAndTerms(t *testing.T) {
	for _, tt := range []struct {
		name      string
		u         unstable
		first     uint64 // 0: none
		last      uint64 // 0: none
		termsFrom uint64
		terms     []uint64 // terms at termsFrom, termsFrom+1, ...; 0: unknown
	}{
		{
			name: "empty",
			u:    mkUnstable(5, nil, nil),
			// Nothing is known.
			termsFrom: 3, terms: []uint64{0, 0, 0, 0},
		},
		{
			name: "entries",
			u:    mkUnstable(5, nil, index(5).terms(1, 2)),
			last: 6,
			// 4 is stable, so unknown here.
			termsFrom: 4, terms: []uint64{0, 1, 2, 0},
		},
		{
			name:  "snapshot",
			u:     mkUnstable(5, snapAt(4, 1), nil),
			first: 5, last: 4,
			termsFrom: 3, terms: []uint64{0, 1, 0},
		},
		{
			name:  "snapshot and entries",
			u:     mkUnstable(5, snapAt(4, 1), index(5).terms(2, 3)),
			first: 5, last: 6,
			termsFrom: 3, terms: []uint64{0, 1, 2, 3, 0},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first, ok := tt.u.maybeFirstIndex()
			if ok != (tt.first != 0) || first != tt.first {
				t.Errorf("maybeFirstIndex() = %d, %t; want %d", first, ok, tt.first)
			}
			last, ok := tt.u.maybeLastIndex()
			if ok != (tt.last != 0) || last != tt.last {
				t.Errorf("maybeLastIndex() = %d, %t; want %d", last, ok, tt.last)
			}
			for j, want := range tt.terms {
				i := tt.termsFrom + uint64(j)
				got, ok := tt.u.maybeTerm(i)
				if ok != (want != 0) || got != want {
					t.Errorf("maybeTerm(%d) = %d, %t; want %d", i, got, ok, want)
				}
			}
		})
	}
}

func TestUnstableRestore(t *testing.T) {
	u := mkUnstable(5, snapAt(4, 1), index(5).terms(1, 1, 2))
	u.acceptInProgress()
	s := snapAt(20, 3)
	u.restore(s)
	if u.offset != 21 || u.offsetInProgress != 21 || len(u.entries) != 0 ||
		u.snapshot != s || u.snapshotInProgress {
		t.Fatalf("after restore: %s", u.String())
	}
	if got := u.nextSnapshot(); got != s {
		t.Fatalf("nextSnapshot() = %v, want the restored snapshot", got)
	}
}

func TestUnstableNextAndAccept(t *testing.T) {
	for _, tt := range []struct {
		name       string
		u          unstable
		inProgress uint64 // offsetInProgress before the calls
		snapInProg bool
		wantEnts   string
		wantSnap   bool
	}{
		{"empty", mkUnstable(5, nil, nil), 5, false, "[]", false},
		{"nothing in progress", mkUnstable(5, nil, index(5).terms(1, 1)), 5, false, "[5/1 6/1]", false},
		{"partly in progress", mkUnstable(5, nil, index(5).terms(1, 1)), 6, false, "[6/1]", false},
		{"all in progress", mkUnstable(5, nil, index(5).terms(1, 1)), 7, false, "[]", false},
		{"snapshot", mkUnstable(5, snapAt(4, 1), nil), 5, false, "[]", true},
		{"snapshot in progress", mkUnstable(5, snapAt(4, 1), nil), 5, true, "[]", false},
		{"snapshot and entries", mkUnstable(5, snapAt(4, 1), index(5).terms(1)), 5, false, "[5/1]", true},
		{"snapshot and entries in progress", mkUnstable(5, snapAt(4, 1), index(5).terms(1, 2)), 6, true, "[6/2]", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.u
			u.offsetInProgress, u.snapshotInProgress = tt.inProgress, tt.snapInProg
			if got := entIDs(u.nextEntries()); got != tt.wantEnts {
				t.Errorf("nextEntries() = %s, want %s", got, tt.wantEnts)
			}
			if got := u.nextSnapshot() != nil; got != tt.wantSnap {
				t.Errorf("nextSnapshot() != nil is %t, want %t", got, tt.wantSnap)
			}
			u.acceptInProgress()
			if next := u.nextEntries(); len(next) != 0 {
				t.Errorf("nextEntries() after acceptInProgress = %s", entIDs(next))
			}
			if u.nextSnapshot() != nil {
				t.Error("nextSnapshot() after acceptInProgress is not nil")
			}
			if want := u.offset + uint64(len(u.entries)); u.offsetInProgress != want {
				t.Errorf("offsetInProgress = %d, want %d", u.offsetInProgress, want)
			}
			if u.snapshotInProgress != (u.snapshot != nil) {
				t.Errorf("snapshotInProgress = %t with snapshot %v", u.snapshotInProgress, u.snapshot)
			}
		})
	}
}

// Appending to what nextEntries returned must not reach the unstable log.
func TestUnstableNextEntriesCapped(t *testing.T) {
	u := mkUnstable(5, nil, make([]*raftpb.Entry, 0, 10))
	u.truncateAndAppend(index(5).terms(1, 1))
	next := u.nextEntries()
	_ = append(next, &raftpb.Entry{Index: 7, Term: 9})
	u.truncateAndAppend(index(7).terms(2))
	if got := entIDs(u.entries); got != "[5/1 6/1 7/2]" {
		t.Fatalf("entries = %s", got)
	}
}

func TestUnstableStableTo(t *testing.T) {
	for _, tt := range []struct {
		name           string
		u              unstable
		inProgress     uint64
		i, t           uint64
		wantOffset     uint64
		wantInProgress uint64
		wantEnts       string
	}{
		{"empty", mkUnstable(5, nil, nil), 5, 5, 1, 5, 5, "[]"},
		{"first entry", mkUnstable(5, nil, index(5).terms(1, 1, 2)), 8, 5, 1, 6, 8, "[6/1 7/2]"},
		{"all entries", mkUnstable(5, nil, index(5).terms(1, 1, 2)), 8, 7, 2, 8, 8, "[]"},
		// Written ahead of what was handed out: offsetInProgress follows.
		{"past in progress", mkUnstable(5, nil, index(5).terms(1, 1, 2)), 5, 6, 1, 7, 7, "[7/2]"},
		// The entry at 6 has term 1: the write of a term-2 entry at 6
		// was overtaken by a new leader's entry.
		{"stale term", mkUnstable(5, nil, index(5).terms(1, 1, 2)), 8, 6, 2, 5, 8, "[5/1 6/1 7/2]"},
		{"before offset", mkUnstable(5, nil, index(5).terms(1, 1)), 7, 4, 1, 5, 7, "[5/1 6/1]"},
		{"past last", mkUnstable(5, nil, index(5).terms(1, 1)), 7, 7, 1, 5, 7, "[5/1 6/1]"},
		// The snapshot index is stabilised by stableSnapTo only.
		{"snapshot index", mkUnstable(5, snapAt(4, 1), index(5).terms(1)), 6, 4, 1, 5, 6, "[5/1]"},
		{"after snapshot", mkUnstable(5, snapAt(4, 1), index(5).terms(1, 2)), 7, 5, 1, 6, 7, "[6/2]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.u
			u.offsetInProgress = tt.inProgress
			u.stableTo(tt.i, tt.t)
			if u.offset != tt.wantOffset || u.offsetInProgress != tt.wantInProgress || entIDs(u.entries) != tt.wantEnts {
				t.Fatalf("after stableTo(%d, %d): offset=%d in-progress=%d entries=%s; want %d, %d, %s",
					tt.i, tt.t, u.offset, u.offsetInProgress, entIDs(u.entries),
					tt.wantOffset, tt.wantInProgress, tt.wantEnts)
			}
		})
	}
}

func TestUnstableStableSnapTo(t *testing.T) {
	u := mkUnstable(5, snapAt(4, 1), index(5).terms(1))
	u.acceptInProgress()
	u.stableSnapTo(3) // not the pending snapshot
	if u.snapshot == nil || !u.snapshotInProgress {
		t.Fatal("stableSnapTo with another index dropped the snapshot")
	}
	u.stableSnapTo(4)
	if u.snapshot != nil || u.snapshotInProgress {
		t.Fatalf("snapshot still pending after stableSnapTo: %s", u.String())
	}
	if entIDs(u.entries) != "[5/1]" || u.offset != 5 {
		t.Fatalf("stableSnapTo touched the entries: %s", u.String())
	}
}

// The backing array is reallocated once most of it is unused, so stable
// entries are not kept alive by it.
func TestUnstableShrinksAfterStableTo(t *testing.T) {
	ents := make([]*raftpb.Entry, 0, smallEntriesCap+100)
	u := mkUnstable(1, nil, append(ents, index(1).terms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)...))
	u.acceptInProgress()
	u.stableTo(4, 1)
	if got := entIDs(u.entries); got != "[5/1 6/1 7/1 8/1 9/1 10/1]" {
		t.Fatalf("entries = %s", got)
	}
	if c := cap(u.entries); c != len(u.entries) {
		t.Fatalf("cap(entries) = %d after shrinking, want %d", c, len(u.entries))
	}
	u.stableTo(10, 1)
	if len(u.entries) != 0 || cap(u.entries) != 0 {
		t.Fatalf("entries = %v (cap %d) after everything is stable, want empty and released", u.entries, cap(u.entries))
	}

	// Mostly used arrays are kept.
	ents = make([]*raftpb.Entry, 0, 12)
	u = mkUnstable(1, nil, append(ents, index(1).terms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)...))
	u.stableTo(1, 1)
	if c := cap(u.entries); c != 11 {
		t.Fatalf("cap(entries) = %d, want the original array (11)", c)
	}

	// Small arrays are kept even when emptied, and the next append reuses
	// them without touching what was handed out before.
	ents = make([]*raftpb.Entry, 0, 16)
	u = mkUnstable(1, nil, append(ents, index(1).terms(1, 1)...))
	handed := u.nextEntries()
	u.acceptInProgress()
	u.stableTo(2, 1)
	if len(u.entries) != 0 || cap(u.entries) == 0 {
		t.Fatalf("small emptied array not kept: len %d cap %d", len(u.entries), cap(u.entries))
	}
	u.truncateAndAppend(index(3).terms(2))
	if entIDs(handed) != "[1/1 2/1]" {
		t.Fatalf("append overwrote entries handed out earlier: %s", entIDs(handed))
	}
}

func TestUnstableTruncateAndAppend(t *testing.T) {
	for _, tt := range []struct {
		name           string
		u              unstable
		inProgress     uint64
		app            []*raftpb.Entry
		wantOffset     uint64
		wantInProgress uint64
		wantEnts       string
	}{
		{"append to empty", mkUnstable(5, nil, nil), 5, index(5).terms(1, 1), 5, 5, "[5/1 6/1]"},
		{"append at end", mkUnstable(5, nil, index(5).terms(1)), 6, index(6).terms(1, 2), 5, 6, "[5/1 6/1 7/2]"},
		{"replace all at offset", mkUnstable(5, nil, index(5).terms(1, 1)), 7, index(5).terms(2, 2), 5, 5, "[5/2 6/2]"},
		{"replace all before offset", mkUnstable(5, nil, index(5).terms(1, 1)), 7, index(4).terms(2), 4, 4, "[4/2]"},
		{"truncate middle", mkUnstable(5, nil, index(5).terms(1, 1, 1)), 8, index(6).terms(2), 5, 6, "[5/1 6/2]"},
		{"truncate last", mkUnstable(5, nil, index(5).terms(1, 1, 1)), 8, index(7).terms(2, 2), 5, 7, "[5/1 6/1 7/2 8/2]"},
		// Entries not yet in progress stay so.
		{"truncate after in progress", mkUnstable(5, nil, index(5).terms(1, 1, 1)), 6, index(7).terms(2), 5, 6, "[5/1 6/1 7/2]"},
		{"append after snapshot", mkUnstable(5, snapAt(4, 1), nil), 5, index(5).terms(2), 5, 5, "[5/2]"},
		{"nothing", mkUnstable(5, nil, index(5).terms(1)), 6, nil, 5, 6, "[5/1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.u
			u.offsetInProgress = tt.inProgress
			before := u.entries
			beforeIDs := entIDs(before)
			u.truncateAndAppend(tt.app)
			if u.offset != tt.wantOffset || u.offsetInProgress != tt.wantInProgress || entIDs(u.entries) != tt.wantEnts {
				t.Fatalf("offset=%d in-progress=%d entries=%s; want %d, %d, %s",
					u.offset, u.offsetInProgress, entIDs(u.entries),
					tt.wantOffset, tt.wantInProgress, tt.wantEnts)
			}
			// A slice handed out before (e.g. in a Ready) is unchanged.
			if got := entIDs(before); got != beforeIDs {
				t.Fatalf("earlier slice changed from %s to %s", beforeIDs, got)
			}
		})
	}
}

// Truncation must copy even when the array has room: the old entries are
// still visible through slices handed out earlier.
func TestUnstableTruncateCopies(t *testing.T) {
	ents := make([]*raftpb.Entry, 0, 10)
	u := mkUnstable(5, nil, append(ents, index(5).terms(1, 1, 1)...))
	handedOut := u.entries[:3:10] // worst case: uncapped
	u.truncateAndAppend(index(6).terms(2, 2))
	if got := entIDs(handedOut); got != "[5/1 6/1 7/1]" {
		t.Fatalf("handed out slice changed to %s", got)
	}
	if got := entIDs(u.entries); got != "[5/1 6/2 7/2]" {
		t.Fatalf("entries = %s", got)
	}
}

func TestUnstableTruncateAndAppendGapPanics(t *testing.T) {
	u := mkUnstable(5, nil, index(5).terms(1))
	expectPanic(t, "gap", func() { u.truncateAndAppend(index(7).terms(1)) })
}

func TestUnstableSlice(t *testing.T) {
	u := mkUnstable(5, nil, index(5).terms(1, 2, 3))
	for _, tt := range []struct {
		lo, hi uint64
		want   string
	}{
		{5, 5, "[]"},
		{5, 8, "[5/1 6/2 7/3]"},
		{6, 7, "[6/2]"},
		{8, 8, "[]"},
	} {
		got := u.slice(tt.lo, tt.hi)
		if entIDs(got) != tt.want || cap(got) != len(got) {
			t.Errorf("slice(%d, %d) = %s (cap %d), want %s capped", tt.lo, tt.hi, entIDs(got), cap(got), tt.want)
		}
	}
	// Out of bounds is a violated internal invariant.
	for _, r := range [][2]uint64{{4, 6}, {6, 9}, {7, 6}} {
		expectPanic(t, "unstable slice", func() { u.slice(r[0], r[1]) })
	}
}

func TestUnstableString(t *testing.T) {
	u := mkUnstable(5, snapAt(4, 2), index(5).terms(2, 2))
	u.acceptInProgress()
	want := "snapshot=4/2 (in progress) offset=5 in-progress-to=7 entries=2"
	if got := u.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
