package raft

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// mkStorage returns a MemoryStorage compacted to snapIndex/snapTerm (through
// a snapshot, if snapIndex > 0) and holding ents.
func mkStorage(t testing.TB, snapIndex, snapTerm uint64, ents []*raftpb.Entry) *MemoryStorage {
	t.Helper()
	s := NewMemoryStorage()
	if snapIndex > 0 {
		if err := s.ApplySnapshot(snapAt(snapIndex, snapTerm)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(ents); err != nil {
		t.Fatal(err)
	}
	return s
}

// mkLog returns a log over s with no apply size limit.
func mkLog(t testing.TB, s Storage) *raftLog {
	t.Helper()
	l, err := newLog(s, zap.NewNop(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// mkLogWith returns a log whose storage is compacted to snapIndex/snapTerm
// and holds stable, followed by the entries unstable.
func mkLogWith(t testing.TB, snapIndex, snapTerm uint64, stable, unstable []*raftpb.Entry) *raftLog {
	t.Helper()
	l := mkLog(t, mkStorage(t, snapIndex, snapTerm, stable))
	l.append(unstable...)
	return l
}

func TestNewLog(t *testing.T) {
	l := mkLog(t, mkStorage(t, 10, 2, index(11).terms(2, 3)))
	if l.firstIndex() != 11 || l.lastIndex() != 12 || l.unstable.offset != 13 {
		t.Fatalf("first=%d last=%d offset=%d; want 11, 12, 13", l.firstIndex(), l.lastIndex(), l.unstable.offset)
	}
	if l.committed != 10 || l.applying != 10 || l.applied != 10 {
		t.Fatalf("positions %s; want all at the snapshot, 10", l)
	}
	if l.maxApplyingEntsSize != math.MaxUint64 {
		t.Fatalf("maxApplyingEntsSize = %d; 0 must mean unlimited", l.maxApplyingEntsSize)
	}
	if l, _ := newLog(NewMemoryStorage(), zap.NewNop(), 100); l.maxApplyingEntsSize != 100 {
		t.Fatalf("maxApplyingEntsSize = %d, want 100", l.maxApplyingEntsSize)
	}
}

// brokenStorage is a Storage that reports what it is told to, to check how
// the log copes with a storage breaking its contract or failing.
type brokenStorage struct {
	*MemoryStorage
	first, last uint64
	err         error
	extra       int // entries to add to every Entries result
}

func (s *brokenStorage) FirstIndex() (uint64, error) { return s.first, s.err }
func (s *brokenStorage) LastIndex() (uint64, error)  { return s.last, s.err }
func (s *brokenStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	ents, err := s.MemoryStorage.Entries(lo, hi+uint64(s.extra), maxSize)
	return ents, err
}

func TestNewLogRefusesBadStorage(t *testing.T) {
	ms := mkStorage(t, 0, 0, index(1).terms(1, 1))
	for _, tt := range []struct {
		name string
		s    Storage
	}{
		{"nil", nil},
		{"error", &brokenStorage{MemoryStorage: ms, first: 1, last: 2, err: errors.New("disk on fire")}},
		{"first past last+1", &brokenStorage{MemoryStorage: ms, first: 4, last: 2}},
		{"first index 0", &brokenStorage{MemoryStorage: ms, first: 0, last: 2}},
		{"unknown compaction term", &brokenStorage{MemoryStorage: ms, first: 5, last: 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newLog(tt.s, zap.NewNop(), 0); err == nil {
				t.Fatal("newLog succeeded")
			}
		})
	}
	if _, err := newLog(ms, nil, 0); err == nil {
		t.Fatal("newLog with a nil logger succeeded")
	}
}

func TestLogMaybeAppend(t *testing.T) {
	// Log 1/1 2/2 3/3, committed 1.
	for _, tt := range []struct {
		name                   string
		index, logTerm, commit uint64
		ents                   []*raftpb.Entry
		wantLast               uint64
		wantOK                 bool
		wantCommit             uint64
		wantLog                string
	}{
		// (index, logTerm) not in our log: refused, nothing changes.
		{"term mismatch", 3, 2, 3, index(4).terms(4), 0, false, 1, "[1/1 2/2 3/3]"},
		{"past last index", 4, 3, 4, index(5).terms(4), 0, false, 1, "[1/1 2/2 3/3]"},
		{"far past last index", math.MaxUint64 - 1, 3, 4, nil, 0, false, 1, "[1/1 2/2 3/3]"},

		// Heartbeat-like: no entries; commit up to the matched index.
		{"empty, commit less", 3, 3, 2, nil, 3, true, 2, "[1/1 2/2 3/3]"},
		{"empty, commit more", 3, 3, 4, nil, 3, true, 3, "[1/1 2/2 3/3]"},
		{"empty, commit capped at index", 2, 2, 4, nil, 2, true, 2, "[1/1 2/2 3/3]"},
		{"empty, no commit regression", 1, 1, 0, nil, 1, true, 1, "[1/1 2/2 3/3]"},

		// New entries at the end.
		{"append", 3, 3, 3, index(4).terms(4), 4, true, 3, "[1/1 2/2 3/3 4/4]"},
		{"append, commit all", 3, 3, 5, index(4).terms(4, 4), 5, true, 5, "[1/1 2/2 3/3 4/4 5/4]"},

		// Entries we already hold: a stale or duplicated message. Nothing
		// after them may be truncated.
		{"duplicate prefix", 1, 1, 3, index(2).terms(2), 2, true, 2, "[1/1 2/2 3/3]"},
		{"duplicate all", 0, 0, 3, index(1).terms(1, 2, 3), 3, true, 3, "[1/1 2/2 3/3]"},
		{"duplicate then new", 2, 2, 4, index(3).terms(3, 4), 4, true, 4, "[1/1 2/2 3/3 4/4]"},

		// Conflicts after the commit index replace our suffix.
		{"conflict at 2", 1, 1, 2, index(2).terms(4), 2, true, 2, "[1/1 2/4]"},
		{"conflict at 3", 2, 2, 2, index(3).terms(4, 4), 4, true, 2, "[1/1 2/2 3/4 4/4]"},
		{"conflict after a match", 1, 1, 3, index(2).terms(2, 4), 3, true, 3, "[1/1 2/2 3/4]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mkLogWith(t, 0, 0, nil, index(1).terms(1, 2, 3))
			l.commitTo(1)
			last, ok := l.maybeAppend(tt.index, tt.logTerm, tt.commit, tt.ents...)
			if last != tt.wantLast || ok != tt.wantOK {
				t.Errorf("maybeAppend = %d, %t; want %d, %t", last, ok, tt.wantLast, tt.wantOK)
			}
			if l.committed != tt.wantCommit {
				t.Errorf("committed = %d, want %d", l.committed, tt.wantCommit)
			}
			if got := entIDs(l.allEntries()); got != tt.wantLog {
				t.Errorf("log = %s, want %s", got, tt.wantLog)
			}
		})
	}
}

// A conflicting suffix is replaced wherever it starts after the commit
// index, whether the conflict lies in storage or in the unstable entries.
func TestLogMaybeAppendConflictAtEveryPosition(t *testing.T) {
	base := []uint64{1, 1, 2, 2, 3, 3}
	const committed = 2
	for split := 0; split <= len(base); split++ { // entries [0, split) are stable
		for at := committed + 1; at <= len(base)+1; at++ { // first conflicting index
			t.Run(fmt.Sprintf("stable=%d/conflict=%d", split, at), func(t *testing.T) {
				l := mkLogWith(t, 0, 0, index(1).terms(base[:split]...), index(uint64(split)+1).terms(base[split:]...))
				l.commitTo(committed)
				prev := uint64(at - 1)
				ents := index(at).terms(4, 4)
				last, ok := l.maybeAppend(prev, base[prev-1], committed, ents...)
				if !ok || last != prev+2 {
					t.Fatalf("maybeAppend = %d, %t; want %d, true", last, ok, prev+2)
				}
				want := entIDs(append(index(1).terms(base[:prev]...), ents...))
				if got := entIDs(l.allEntries()); got != want {
					t.Fatalf("log = %s, want %s", got, want)
				}
				if l.lastIndex() != prev+2 {
					t.Fatalf("lastIndex() = %d, want %d", l.lastIndex(), prev+2)
				}
				// The replaced suffix must be written again.
				if next := l.nextUnstableEnts(); len(next) == 0 || next[0].Index > uint64(at) {
					t.Fatalf("nextUnstableEnts() = %s, want to start at or before %d", entIDs(next), at)
				}
			})
		}
	}
}

// A leader sending something that conflicts with a committed entry means
// the cluster's safety is already gone: that is a panic, not an error.
func TestLogMaybeAppendConflictWithCommittedPanics(t *testing.T) {
	for _, at := range []uint64{1, 2} {
		l := mkLogWith(t, 0, 0, nil, index(1).terms(1, 2, 3))
		l.commitTo(2)
		expectPanic(t, "conflicts with a committed entry", func() {
			l.maybeAppend(at-1, uint64(at-1), 3, index(at).terms(4)...)
		})
	}
}

// Malformed entries from a peer are refused without panicking and without
// changing the log.
func TestLogMaybeAppendMalformed(t *testing.T) {
	for _, tt := range []struct {
		name string
		ents []*raftpb.Entry
	}{
		{"wrong first index", index(4).terms(3)},
		{"index 0", []*raftpb.Entry{{Index: 0, Term: 3}}},
		{"hole", []*raftpb.Entry{{Index: 3, Term: 3}, {Index: 5, Term: 3}}},
		{"repeated index", []*raftpb.Entry{{Index: 3, Term: 3}, {Index: 3, Term: 3}}},
		{"decreasing terms", index(3).terms(3, 2)},
		{"term below logTerm", index(3).terms(1)},
		{"nil entry", []*raftpb.Entry{{Index: 3, Term: 3}, nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mkLogWith(t, 0, 0, nil, index(1).terms(1, 2, 3))
			l.commitTo(1)
			var ok bool
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("maybeAppend panicked: %v", r)
					}
				}()
				_, ok = l.maybeAppend(2, 2, 3, tt.ents...)
			}()
			if ok {
				t.Fatal("maybeAppend accepted malformed entries")
			}
			if got := entIDs(l.allEntries()); got != "[1/1 2/2 3/3]" || l.committed != 1 {
				t.Fatalf("log changed: %s, committed %d", got, l.committed)
			}
		})
	}
}

func TestLogAppend(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ents     []*raftpb.Entry
		wantLast uint64
		wantLog  string
		wantNext string // unstable entries to write
	}{
		{"nothing", nil, 2, "[1/1 2/2]", "[]"},
		{"at end", index(3).terms(2), 3, "[1/1 2/2 3/2]", "[3/2]"},
		{"replace stable suffix", index(2).terms(3, 3), 3, "[1/1 2/3 3/3]", "[2/3 3/3]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mkLogWith(t, 0, 0, index(1).terms(1, 2), nil)
			l.commitTo(1)
			if last := l.append(tt.ents...); last != tt.wantLast {
				t.Fatalf("append = %d, want %d", last, tt.wantLast)
			}
			if got := entIDs(l.allEntries()); got != tt.wantLog {
				t.Fatalf("log = %s, want %s", got, tt.wantLog)
			}
			if got := entIDs(l.nextUnstableEnts()); got != tt.wantNext {
				t.Fatalf("nextUnstableEnts() = %s, want %s", got, tt.wantNext)
			}
		})
	}
	l := mkLogWith(t, 0, 0, index(1).terms(1, 2), nil)
	l.commitTo(2)
	expectPanic(t, "overwrite committed", func() { l.append(index(2).terms(3)...) })
	expectPanic(t, "gap", func() { l.append(index(4).terms(3)...) })
}

// The term of every index across the compaction point, storage, an
// unstable snapshot and unstable entries.
func TestLogTerm(t *testing.T) {
	type want struct {
		term uint64
		err  error
	}
	compacted, unavailable := want{err: ErrCompacted}, want{err: ErrUnavailable}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) *raftLog
		from  uint64
		want  []want // terms at from, from+1, ...
	}{
		{
			name:  "fresh",
			setup: func(t *testing.T) *raftLog { return mkLog(t, NewMemoryStorage()) },
			from:  0,
			want:  []want{{term: 0}, unavailable},
		},
		{
			name: "snapshot, storage and unstable",
			setup: func(t *testing.T) *raftLog {
				return mkLogWith(t, 3, 2, index(4).terms(2, 3), index(6).terms(3, 4))
			},
			from: 1,
			want: []want{compacted, compacted, {term: 2}, {term: 2}, {term: 3}, {term: 3}, {term: 4}, unavailable},
		},
		{
			name: "unstable snapshot over an older storage",
			setup: func(t *testing.T) *raftLog {
				l := mkLogWith(t, 0, 0, index(1).terms(1, 1, 1), nil)
				l.restore(snapAt(6, 2))
				return l
			},
			from: 2,
			want: []want{compacted, compacted, compacted, compacted, {term: 2}, unavailable},
		},
		{
			name: "unstable snapshot and entries",
			setup: func(t *testing.T) *raftLog {
				l := mkLogWith(t, 0, 0, index(1).terms(1), nil)
				l.restore(snapAt(6, 2))
				l.append(index(7).terms(3)...)
				return l
			},
			from: 5,
			want: []want{compacted, {term: 2}, {term: 3}, unavailable},
		},
		{
			// A new leader replaced stable entries 3..4 with one entry
			// that is not written yet: storage's old 4 is not in the log.
			name: "unstable replaces stable suffix",
			setup: func(t *testing.T) *raftLog {
				l := mkLogWith(t, 0, 0, index(1).terms(1, 1, 1, 1), nil)
				l.append(index(3).terms(2)...)
				return l
			},
			from: 2,
			want: []want{{term: 1}, {term: 2}, unavailable, unavailable},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.setup(t)
			for j, w := range tt.want {
				i := tt.from + uint64(j)
				got, err := l.term(i)
				if w.err != nil {
					if !errors.Is(err, w.err) {
						t.Errorf("term(%d): err = %v, want %v", i, err, w.err)
					}
					continue
				}
				if err != nil || got != w.term {
					t.Errorf("term(%d) = %d, %v; want %d", i, got, err, w.term)
				}
			}
			// Far past the end never panics.
			if _, err := l.term(math.MaxUint64); !errors.Is(err, ErrUnavailable) {
				t.Errorf("term(MaxUint64): err = %v", err)
			}
			// The last term is always known.
			if _, err := l.term(l.lastIndex()); err != nil {
				t.Errorf("term(lastIndex()): %v", err)
			}
		})
	}
}

func TestLogFindConflict(t *testing.T) {
	for _, tt := range []struct {
		ents []*raftpb.Entry
		want uint64
	}{
		{nil, 0},
		{index(1).terms(1, 2, 3), 0},
		{index(2).terms(2, 3), 0},
		{index(3).terms(3), 0},
		{index(2).terms(2, 3, 4, 4), 4},
		{index(4).terms(4), 4},
		{index(1).terms(4, 4), 1},
		{index(2).terms(1, 4), 2},
		{index(3).terms(1, 2), 3},
	} {
		l := mkLogWith(t, 0, 0, index(1).terms(1, 2), index(3).terms(3))
		if got := l.findConflict(tt.ents); got != tt.want {
			t.Errorf("findConflict(%s) = %d, want %d", entIDs(tt.ents), got, tt.want)
		}
	}
}

func TestLogFindConflictByTerm(t *testing.T) {
	// Compacted to 10/2; entries 11..15 with terms 3 3 3 4 4, the last two
	// unstable.
	l := mkLogWith(t, 10, 2, index(11).terms(3, 3, 3), index(14).terms(4, 4))
	for _, tt := range []struct {
		index, term         uint64
		wantIndex, wantTerm uint64
	}{
		{15, 4, 15, 4},
		{15, 5, 15, 4},
		{15, 3, 13, 3},
		{13, 3, 13, 3},
		{12, 4, 12, 3},
		{15, 2, 10, 2}, // the compaction point's term is known
		{11, 2, 10, 2},
		{15, 1, 9, 0},  // compacted entries: term unknown, possible match
		{20, 5, 15, 4}, // clamped to our last index
		{20, 3, 13, 3},
		{math.MaxUint64, 3, 13, 3},
	} {
		gi, gt := l.findConflictByTerm(tt.index, tt.term)
		if gi != tt.wantIndex || gt != tt.wantTerm {
			t.Errorf("findConflictByTerm(%d, %d) = %d, %d; want %d, %d",
				tt.index, tt.term, gi, gt, tt.wantIndex, tt.wantTerm)
		}
	}

	fresh := mkLogWith(t, 0, 0, nil, index(1).terms(1, 2))
	for _, tt := range []struct{ index, term, wantIndex, wantTerm uint64 }{
		{2, 0, 0, 0},
		{2, 1, 1, 1},
		{0, 5, 0, 0},
	} {
		gi, gt := fresh.findConflictByTerm(tt.index, tt.term)
		if gi != tt.wantIndex || gt != tt.wantTerm {
			t.Errorf("fresh log: findConflictByTerm(%d, %d) = %d, %d; want %d, %d",
				tt.index, tt.term, gi, gt, tt.wantIndex, tt.wantTerm)
		}
	}
}

func TestLogIsUpToDate(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1, 2), index(3).terms(3))
	for _, tt := range []struct {
		lasti, term uint64
		want        bool
	}{
		{2, 4, true}, // later term wins even if shorter
		{3, 4, true},
		{4, 4, true},
		{2, 3, false}, // same term, shorter
		{3, 3, true},
		{4, 3, true},
		{2, 2, false}, // earlier term loses even if longer
		{5, 2, false},
	} {
		if got := l.isUpToDate(tt.lasti, tt.term); got != tt.want {
			t.Errorf("isUpToDate(%d, %d) = %t, want %t", tt.lasti, tt.term, got, tt.want)
		}
	}
	if i, term := l.lastEntryID(); i != 3 || term != 3 || l.lastTerm() != 3 {
		t.Errorf("lastEntryID() = %d, %d; lastTerm() = %d", i, term, l.lastTerm())
	}
}

func TestLogMaybeCommit(t *testing.T) {
	for _, tt := range []struct {
		maxIndex, term uint64
		want           bool
		wantCommit     uint64
	}{
		{3, 2, true, 3},
		{2, 2, false, 1}, // §5.4.2: an entry of an older term is not committed by counting
		{3, 3, false, 1}, // term mismatch
		{1, 1, false, 1}, // not an advance
		{0, 0, false, 1},
		{4, 2, false, 1}, // beyond the log
		{4, 0, false, 1},
	} {
		l := mkLogWith(t, 0, 0, nil, index(1).terms(1, 1, 2))
		l.commitTo(1)
		if got := l.maybeCommit(tt.maxIndex, tt.term); got != tt.want || l.committed != tt.wantCommit {
			t.Errorf("maybeCommit(%d, %d) = %t, committed %d; want %t, %d",
				tt.maxIndex, tt.term, got, l.committed, tt.want, tt.wantCommit)
		}
	}
}

func TestLogCommitTo(t *testing.T) {
	l := mkLogWith(t, 0, 0, nil, index(1).terms(1, 2, 3))
	l.commitTo(2)
	l.commitTo(1) // never decreases
	if l.committed != 2 {
		t.Fatalf("committed = %d, want 2", l.committed)
	}
	l.commitTo(3)
	if l.committed != 3 {
		t.Fatalf("committed = %d, want 3", l.committed)
	}
	expectPanic(t, "beyond the last index", func() { l.commitTo(4) })
}

// Entries handed out by nextUnstableEnts are marked in progress by
// acceptUnstable and leave the unstable log with stableTo.
func TestLogUnstableWrites(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1), index(2).terms(1, 2))
	if !l.hasNextUnstableEnts() || entIDs(l.nextUnstableEnts()) != "[2/1 3/2]" {
		t.Fatalf("nextUnstableEnts() = %s", entIDs(l.nextUnstableEnts()))
	}
	l.acceptUnstable()
	if l.hasNextUnstableEnts() || !l.hasNextOrInProgressUnstableEnts() {
		t.Fatal("entries in progress are offered again or forgotten")
	}
	// A new leader overwrites entry 3 while it is being written; the
	// acknowledgement of the old write must not mark the new entry stable.
	l.append(index(3).terms(3)...)
	l.stableTo(3, 2)
	if got := entIDs(l.nextUnstableEnts()); got != "[3/3]" {
		t.Fatalf("nextUnstableEnts() after overwrite = %s, want [3/3]", got)
	}
	l.stableTo(2, 1)
	if l.unstable.offset != 3 {
		t.Fatalf("unstable.offset = %d after stableTo(2, 1), want 3", l.unstable.offset)
	}
	l.acceptUnstable()
	l.stableTo(3, 3)
	if l.hasNextOrInProgressUnstableEnts() {
		t.Fatalf("entries remain unstable: %s", l)
	}

	// Snapshots follow the same path.
	l.restore(snapAt(10, 3))
	if !l.hasNextUnstableSnapshot() || l.nextUnstableSnapshot().Metadata.Index != 10 {
		t.Fatal("restored snapshot not offered")
	}
	l.acceptUnstable()
	if l.hasNextUnstableSnapshot() || !l.hasNextOrInProgressSnapshot() {
		t.Fatal("snapshot in progress is offered again or forgotten")
	}
	l.stableSnapTo(10)
	if l.hasNextOrInProgressSnapshot() {
		t.Fatal("snapshot still pending after stableSnapTo")
	}
}

// applyState sets up the apply positions of a log.
func applyState(t *testing.T, l *raftLog, committed, applying, applied uint64) {
	t.Helper()
	l.commitTo(committed)
	l.appliedTo(applied, 0)
	if applying > applied {
		l.acceptApplying(applying, 0, true)
	}
	l.applyingEntsPaused = false
}

func TestLogNextCommittedEnts(t *testing.T) {
	// Compacted to 3/1, stable 4 5, unstable 6.
	for _, tt := range []struct {
		name                         string
		committed, applying, applied uint64
		allowUnstable                bool
		snapshot                     bool // an unstable snapshot is pending
		want                         string
	}{
		{"stable only", 5, 3, 3, false, false, "[4/1 5/1]"},
		{"stable, unstable allowed", 5, 3, 3, true, false, "[4/1 5/1]"},
		{"partly applying", 5, 4, 3, true, false, "[5/1]"},
		{"partly applied", 5, 4, 4, true, false, "[5/1]"},
		{"all applying", 5, 5, 3, true, false, "[]"},
		{"all applied", 5, 5, 5, true, false, "[]"},
		{"unstable committed, allowed", 6, 3, 3, true, false, "[4/1 5/1 6/1]"},
		{"unstable committed, not allowed", 6, 3, 3, false, false, "[4/1 5/1]"},
		{"only unstable left, not allowed", 6, 5, 5, false, false, "[]"},
		{"only unstable left, allowed", 6, 5, 4, true, false, "[6/1]"},
		{"nothing committed", 3, 3, 3, true, false, "[]"},
		// Entries can't be applied before a pending snapshot.
		{"snapshot pending", 5, 3, 3, true, true, "[]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mkLogWith(t, 3, 1, index(4).terms(1, 1), index(6).terms(1))
			applyState(t, l, tt.committed, tt.applying, tt.applied)
			if tt.snapshot {
				l.unstable.snapshot = snapAt(3, 1) // as if restored, not yet written
			}
			got := entIDs(l.nextCommittedEnts(l.committed, tt.allowUnstable))
			if got != tt.want {
				t.Fatalf("nextCommittedEnts(%t) = %s, want %s", tt.allowUnstable, got, tt.want)
			}
			if has := l.hasNextCommittedEnts(l.committed, tt.allowUnstable); has != (got != "[]") {
				t.Fatalf("hasNextCommittedEnts(%t) = %t with entries %s", tt.allowUnstable, has, got)
			}
		})
	}
}

func TestLogMaxAppliableIndex(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1, 1), index(3).terms(1, 1))
	l.commitTo(3)
	if got := l.maxAppliableIndex(l.committed, false); got != 2 {
		t.Errorf("maxAppliableIndex(false) = %d, want 2 (the last stable index)", got)
	}
	if got := l.maxAppliableIndex(l.committed, true); got != 3 {
		t.Errorf("maxAppliableIndex(true) = %d, want 3 (the commit index)", got)
	}
}

// The apply size limit bounds what is handed out but not yet applied, and
// pauses handing out entries until the application catches up.
func TestLogApplySizeLimit(t *testing.T) {
	ents := index(1).terms(1, 1, 1, 1, 1, 1)
	for _, e := range ents {
		e.Data = make([]byte, 100)
	}
	size := entryEncodingSize(entryEncodedSize(ents[0]))
	l, err := newLog(mkStorage(t, 0, 0, ents), zap.NewNop(), 2*size+size/2)
	if err != nil {
		t.Fatal(err)
	}
	l.commitTo(6)

	next := func(want string) {
		t.Helper()
		got := l.nextCommittedEnts(l.committed, false)
		if entIDs(got) != want {
			t.Fatalf("nextCommittedEnts() = %s, want %s (%s)", entIDs(got), want, l)
		}
		if len(got) > 0 {
			l.acceptApplying(got[len(got)-1].Index, entsSize(got), false)
		}
	}
	next("[1/1 2/1]") // 2.5 entries fit
	// Cut short by the limit: paused until something is applied, so the
	// remaining half entry of room does not produce a third entry.
	if !l.applyingEntsPaused || l.hasNextCommittedEnts(l.committed, false) {
		t.Fatalf("not paused after a size-limited batch: %s", l)
	}
	next("[]")
	l.appliedTo(1, size)
	next("[3/1]") // 1.5 entries of room
	l.appliedTo(3, 2*size)
	if l.applyingEntsSize != 0 {
		t.Fatalf("applyingEntsSize = %d after applying everything handed out", l.applyingEntsSize)
	}
	next("[4/1 5/1]")
	l.appliedTo(5, 2*size)
	// The last batch is not cut short: not paused.
	next("[6/1]")
	if l.applyingEntsPaused {
		t.Fatalf("paused after a batch reaching the commit index: %s", l)
	}
	l.appliedTo(6, size)
	if l.applied != 6 || l.applying != 6 || l.applyingEntsSize != 0 {
		t.Fatalf("final state %s, applyingEntsSize %d", l, l.applyingEntsSize)
	}
}

// An entry larger than the whole limit is still handed out, alone.
func TestLogApplySizeLimitLargeEntry(t *testing.T) {
	ents := index(1).terms(1, 1)
	ents[0].Data = make([]byte, 1000)
	l, err := newLog(mkStorage(t, 0, 0, ents), zap.NewNop(), 10)
	if err != nil {
		t.Fatal(err)
	}
	l.commitTo(2)
	got := l.nextCommittedEnts(l.committed, false)
	if entIDs(got) != "[1/1]" {
		t.Fatalf("nextCommittedEnts() = %s, want [1/1]", entIDs(got))
	}
	l.acceptApplying(1, entsSize(got), false)
	if !l.applyingEntsPaused {
		t.Fatal("not paused over the limit")
	}
	l.appliedTo(1, entsSize(got))
	if got := entIDs(l.nextCommittedEnts(l.committed, false)); got != "[2/1]" {
		t.Fatalf("nextCommittedEnts() = %s after applying, want [2/1]", got)
	}
}

func TestLogApplyBookkeepingPanics(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1, 1, 1), nil)
	l.commitTo(2)
	l.appliedTo(1, 0)
	expectPanic(t, "applied index 3", func() { l.appliedTo(3, 0) })
	expectPanic(t, "applied index 0", func() { l.appliedTo(0, 0) })
	expectPanic(t, "applying index 3", func() { l.acceptApplying(3, 0, true) })
	l.acceptApplying(2, 0, true)
	expectPanic(t, "applying index 1", func() { l.acceptApplying(1, 0, true) })
	// Applied through another path (e.g. a snapshot) past applying.
	l.appliedTo(2, 100)
	if l.applying != 2 || l.applyingEntsSize != 0 {
		t.Fatalf("after appliedTo(2): %s, size %d", l, l.applyingEntsSize)
	}
}

func TestLogSlice(t *testing.T) {
	// Compacted to 3/1, stable 4..6, unstable 7..9; every entry is the
	// same size.
	stable, unstable := index(4).terms(1, 2, 2), index(7).terms(3, 3, 4)
	for _, e := range append(append([]*raftpb.Entry{}, stable...), unstable...) {
		e.Data = make([]byte, 16)
	}
	l := mkLogWith(t, 3, 1, stable, unstable)
	one := entryEncodingSize(entryEncodedSize(stable[0]))
	for _, tt := range []struct {
		lo, hi  uint64
		maxSize entryEncodingSize
		want    string
		wantErr error // errAny: some error
	}{
		{3, 5, math.MaxUint64, "", ErrCompacted},
		{1, 2, math.MaxUint64, "", ErrCompacted},
		{4, 11, math.MaxUint64, "", ErrUnavailable},
		{10, 11, math.MaxUint64, "", ErrUnavailable},
		{6, 5, math.MaxUint64, "", errSomeError},
		{math.MaxUint64, math.MaxUint64, math.MaxUint64, "", ErrUnavailable},

		{4, 4, math.MaxUint64, "[]", nil},
		{10, 10, math.MaxUint64, "[]", nil},
		{4, 7, math.MaxUint64, "[4/1 5/2 6/2]", nil},  // storage only
		{7, 10, math.MaxUint64, "[7/3 8/3 9/4]", nil}, // unstable only
		{5, 9, math.MaxUint64, "[5/2 6/2 7/3 8/3]", nil},
		{4, 10, math.MaxUint64, "[4/1 5/2 6/2 7/3 8/3 9/4]", nil},

		// Byte limits, on each side of the storage/unstable boundary.
		{4, 10, 0, "[4/1]", nil},
		{4, 10, one, "[4/1]", nil},
		{4, 10, 2*one - 1, "[4/1]", nil},
		{4, 10, 3 * one, "[4/1 5/2 6/2]", nil},
		{4, 10, 3*one + one/2, "[4/1 5/2 6/2]", nil},
		{4, 10, 4 * one, "[4/1 5/2 6/2 7/3]", nil},
		{4, 10, 5*one - 1, "[4/1 5/2 6/2 7/3]", nil},
		{5, 10, 4 * one, "[5/2 6/2 7/3 8/3]", nil},
		{6, 10, 2 * one, "[6/2 7/3]", nil},
		{7, 10, 0, "[7/3]", nil},
		{7, 10, 2 * one, "[7/3 8/3]", nil},
	} {
		got, err := l.slice(tt.lo, tt.hi, tt.maxSize)
		what := fmt.Sprintf("slice(%d, %d, %d)", tt.lo, tt.hi, tt.maxSize)
		switch {
		case tt.wantErr == errSomeError:
			if err == nil {
				t.Errorf("%s = %s, want an error", what, entIDs(got))
			}
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", what, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case entIDs(got) != tt.want:
			t.Errorf("%s = %s, want %s", what, entIDs(got), tt.want)
		}
	}
}

var errSomeError = errors.New("some error")

// slice panics when storage breaks its contract, rather than hand out a
// wrong log.
func TestLogSliceStorageViolation(t *testing.T) {
	ms := mkStorage(t, 0, 0, index(1).terms(1, 1, 1))
	l := mkLog(t, ms)
	l.storage = &brokenStorage{MemoryStorage: ms, first: 1, last: 3, extra: 1}
	expectPanic(t, "storage returned 3 entries for [1, 3)", func() { _, _ = l.slice(1, 3, math.MaxUint64) })
}

func TestLogEntries(t *testing.T) {
	l := mkLogWith(t, 3, 1, index(4).terms(1, 2), index(6).terms(3))
	for _, tt := range []struct {
		i    uint64
		want string
	}{
		{4, "[4/1 5/2 6/3]"},
		{6, "[6/3]"},
		{7, "[]"},
		{100, "[]"},
	} {
		got, err := l.entries(tt.i, math.MaxUint64)
		if err != nil || entIDs(got) != tt.want {
			t.Errorf("entries(%d) = %s, %v; want %s", tt.i, entIDs(got), err, tt.want)
		}
	}
	if _, err := l.entries(3, math.MaxUint64); !errors.Is(err, ErrCompacted) {
		t.Errorf("entries(3): err = %v, want ErrCompacted", err)
	}
	if got := entIDs(l.allEntries()); got != "[4/1 5/2 6/3]" {
		t.Errorf("allEntries() = %s", got)
	}
}

func TestLogScan(t *testing.T) {
	stable, unstable := index(1).terms(1, 1, 1, 2), index(5).terms(2, 2, 3)
	l := mkLogWith(t, 0, 0, stable, unstable)
	one := entryEncodingSize(entryEncodedSize(stable[0]))
	for _, tt := range []struct {
		lo, hi   uint64
		pageSize entryEncodingSize
		want     string // pages
	}{
		{1, 8, 0, "[1/1][2/1][3/1][4/2][5/2][6/2][7/3]"},
		{1, 8, 2 * one, "[1/1 2/1][3/1 4/2][5/2 6/2][7/3]"},
		{2, 7, 3 * one, "[2/1 3/1 4/2][5/2 6/2]"},
		{1, 8, math.MaxUint64, "[1/1 2/1 3/1 4/2 5/2 6/2 7/3]"},
		{4, 4, 0, ""},
	} {
		var got string
		err := l.scan(tt.lo, tt.hi, tt.pageSize, func(ents []*raftpb.Entry) error {
			got += entIDs(ents)
			return nil
		})
		if err != nil || got != tt.want {
			t.Errorf("scan(%d, %d, %d) = %s, %v; want %s", tt.lo, tt.hi, tt.pageSize, got, err, tt.want)
		}
	}

	// The visitor's error stops the scan.
	stop := errors.New("stop")
	calls := 0
	err := l.scan(1, 8, 0, func([]*raftpb.Entry) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Errorf("scan returned %v after %d calls, want the visitor's error after 2", err, calls)
	}
	if err := l.scan(1, 9, 0, func([]*raftpb.Entry) error { return nil }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("scan past the end: err = %v, want ErrUnavailable", err)
	}
}

func TestLogRestore(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1, 1), index(3).terms(2))
	l.commitTo(2)
	l.appliedTo(2, 0)
	s := snapAt(10, 3)
	l.restore(s)
	if l.committed != 10 || l.applied != 2 {
		t.Fatalf("after restore: %s; want committed 10, applied unchanged 2", l)
	}
	if l.firstIndex() != 11 || l.lastIndex() != 10 || l.lastTerm() != 3 {
		t.Fatalf("first=%d last=%d lastTerm=%d; want 11, 10, 3", l.firstIndex(), l.lastIndex(), l.lastTerm())
	}
	if snap, err := l.snapshot(); err != nil || snap != s {
		t.Fatalf("snapshot() = %v, %v; want the restored one", snap, err)
	}
	if got := l.nextCommittedEnts(l.committed, true); got != nil {
		t.Fatalf("nextCommittedEnts with a pending snapshot = %s", entIDs(got))
	}
	// Appending after the snapshot works before it is written.
	if last := l.append(index(11).terms(3)...); last != 11 {
		t.Fatalf("append after restore = %d", last)
	}
	expectPanic(t, "move the commit index back", func() { l.restore(snapAt(5, 1)) })
	expectPanic(t, "without metadata", func() { l.restore(&raftpb.Snapshot{}) })
}

func TestLogSnapshotFromStorage(t *testing.T) {
	l := mkLogWith(t, 5, 2, nil, nil)
	snap, err := l.snapshot()
	if err != nil || snap.Metadata.Index != 5 || snap.Metadata.Term != 2 {
		t.Fatalf("snapshot() = %v, %v; want the storage's 5/2", snap, err)
	}
}

func TestLogString(t *testing.T) {
	l := mkLogWith(t, 0, 0, index(1).terms(1), index(2).terms(1))
	l.commitTo(1)
	want := "committed=1 applying=0 applied=0 unstable: snapshot=none offset=2 in-progress-to=2 entries=1"
	if got := l.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestZeroTermOnOutOfBounds(t *testing.T) {
	l := mkLog(t, NewMemoryStorage())
	if got := l.zeroTermOnOutOfBounds(5, nil); got != 5 {
		t.Errorf("no error: %d", got)
	}
	if got := l.zeroTermOnOutOfBounds(5, ErrCompacted); got != 0 {
		t.Errorf("ErrCompacted: %d", got)
	}
	if got := l.zeroTermOnOutOfBounds(5, fmt.Errorf("wrapped: %w", ErrUnavailable)); got != 0 {
		t.Errorf("ErrUnavailable: %d", got)
	}
	expectPanic(t, "disk", func() { l.zeroTermOnOutOfBounds(0, errors.New("disk")) })
}

// BenchmarkLogAppend is the leader's path per proposal: append, read the
// entry back for replication, and mark it stable.
// Every 64 entries the batch is written to storage and marked stable.
func BenchmarkLogAppend(b *testing.B) {
	ms := NewMemoryStorage()
	l := mkLog(b, ms)
	ent := make([]*raftpb.Entry, 1)
	b.ReportAllocs()
	for i := uint64(1); b.Loop(); i++ {
		ent[0] = &raftpb.Entry{Index: i, Term: 1}
		l.append(ent...)
		if _, err := l.slice(i, i+1, math.MaxUint64); err != nil {
			b.Fatal(err)
		}
		if i%64 == 0 {
			if err := ms.Append(l.nextUnstableEnts()); err != nil {
				b.Fatal(err)
			}
			l.acceptUnstable()
			l.stableTo(i, 1)
			benchCompact(b, ms, i)
		}
	}
}

// benchCompact keeps the storage of a long benchmark small, as an
// application would by compacting: otherwise garbage collection scanning
// millions of live entries dominates the figures.
func benchCompact(b *testing.B, ms *MemoryStorage, last uint64) {
	const keep = 1024
	if last%keep == 0 && last > keep {
		if err := ms.Compact(last - keep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogMaybeAppend is the follower's path per MsgApp of 16 entries.
func BenchmarkLogMaybeAppend(b *testing.B) {
	ms := NewMemoryStorage()
	l := mkLog(b, ms)
	const batch = 16
	terms := make([]uint64, batch)
	for i := range terms {
		terms[i] = 1
	}
	b.ReportAllocs()
	var last uint64
	for b.Loop() {
		// Building the message's entries is part of the figures (17
		// allocations): stopping the timer around it costs far more.
		ents := index(last + 1).terms(terms...)
		var ok bool
		if last, ok = l.maybeAppend(last, l.lastTerm(), last, ents...); !ok {
			b.Fatal("maybeAppend refused")
		}
		if err := ms.Append(l.nextUnstableEnts()); err != nil {
			b.Fatal(err)
		}
		l.acceptUnstable()
		l.stableTo(last, 1)
		benchCompact(b, ms, last)
	}
}

func BenchmarkLogTerm(b *testing.B) {
	l := mkLogWith(b, 0, 0, index(1).terms(make([]uint64, 1000)...), index(1001).terms(make([]uint64, 1000)...))
	for _, bc := range []struct {
		name string
		i    uint64
	}{
		{"unstable", 1500},
		{"stable", 500},
		{"past end", 5000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = l.term(bc.i)
			}
		})
	}
}
