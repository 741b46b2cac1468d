// Package storagetest checks that an implementation of raft.Storage keeps
// the contract documented on that interface. Every Storage in the project
// (the in-memory one, durable ones) runs the same suite:
//
//	func TestMyStorage(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storagetest.Writable {
//			return newMyStorage(t)
//		})
//	}
//
// The suite only uses the Writable interface, never implementation details.
package storagetest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// Writable is a raft.Storage plus the write operations an application uses
// to persist what raft hands it. The methods behave like the MemoryStorage
// methods of the same name:
//
//   - Append adds entries, replacing any existing entries from the first
//     appended index on and ignoring entries at or before the compaction
//     point. A first index beyond LastIndex()+1 fails with an error wrapping
//     raft.ErrEntryGap; entries that are not contiguous fail with an error.
//     A failed Append changes nothing.
//   - SetHardState saves the hard state returned by InitialState.
//   - ApplySnapshot replaces the whole log by the snapshot (LastIndex and
//     the compaction point become its index) and fails with
//     raft.ErrSnapOutOfDate unless it is newer than the current snapshot.
//   - CreateSnapshot records a snapshot at index i without compacting. It
//     fails with raft.ErrSnapOutOfDate if i is not newer than the current
//     snapshot, raft.ErrCompacted if i is before the compaction point, and
//     with some error if i > LastIndex(). A nil ConfState keeps the current
//     snapshot's.
//   - Compact discards entries up to and including i, keeping the term of
//     i. It fails with raft.ErrCompacted if i is not past the compaction
//     point and with some error if i > LastIndex().
type Writable interface {
	raft.Storage
	Append([]*raftpb.Entry) error
	SetHardState(*raftpb.HardState) error
	ApplySnapshot(*raftpb.Snapshot) error
	CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (*raftpb.Snapshot, error)
	Compact(i uint64) error
}

// Run runs the contract suite as subtests of t. newStorage must return a
// new, empty storage each time it is called.
func Run(t *testing.T, newStorage func(t *testing.T) Writable) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Writable)
	}{
		{"InitialState", testInitialState},
		{"HardState", testHardState},
		{"Append", testAppend},
		{"AppendOverwrite", testAppendOverwrite},
		{"AppendGap", testAppendGap},
		{"AppendMalformed", testAppendMalformed},
		{"AppendCompacted", testAppendCompacted},
		{"AppendKeepsEarlierResults", testAppendKeepsEarlierResults},
		{"Entries", testEntries},
		{"EntriesSizeLimit", testEntriesSizeLimit},
		{"EntriesResultNotAliased", testEntriesResultNotAliased},
		{"Term", testTerm},
		{"Compact", testCompact},
		{"CreateSnapshot", testCreateSnapshot},
		{"CreateSnapshotCompacted", testCreateSnapshotCompacted},
		{"ApplySnapshot", testApplySnapshot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStorage(t))
		})
	}
}

// ents builds entries with consecutive indexes starting at first, one per
// term given.
func ents(first uint64, terms ...uint64) []*raftpb.Entry {
	out := make([]*raftpb.Entry, len(terms))
	for i, term := range terms {
		out[i] = &raftpb.Entry{Index: first + uint64(i), Term: term}
	}
	return out
}

// fill returns a storage compacted to (compactIndex, compactTerm) through a
// snapshot, holding entries after it with the given terms.
func fill(t *testing.T, s Writable, compactIndex, compactTerm uint64, terms ...uint64) {
	t.Helper()
	if compactIndex > 0 {
		snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
			Index: compactIndex, Term: compactTerm, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		}}
		if err := s.ApplySnapshot(snap); err != nil {
			t.Fatalf("ApplySnapshot(%d/%d): %v", compactIndex, compactTerm, err)
		}
	}
	if err := s.Append(ents(compactIndex+1, terms...)); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// noPanic runs f and fails the test if it panics: the contract says
// out-of-range requests return errors.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	f()
}

func describe(es []*raftpb.Entry) string {
	s := "["
	for i, e := range es {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d/%d", e.GetIndex(), e.GetTerm())
		if len(e.GetData()) > 0 {
			s += fmt.Sprintf("+%dB", len(e.GetData()))
		}
	}
	return s + "]"
}

func equalEntries(a, b []*raftpb.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// checkLog asserts the storage's bounds and its whole contents.
func checkLog(t *testing.T, s Writable, first uint64, want []*raftpb.Entry) {
	t.Helper()
	fi, err := s.FirstIndex()
	if err != nil || fi != first {
		t.Fatalf("FirstIndex() = %d, %v; want %d", fi, err, first)
	}
	last := first - 1 + uint64(len(want))
	li, err := s.LastIndex()
	if err != nil || li != last {
		t.Fatalf("LastIndex() = %d, %v; want %d", li, err, last)
	}
	got, err := s.Entries(first, last+1, math.MaxUint64)
	if err != nil || !equalEntries(got, want) {
		t.Fatalf("Entries(%d, %d) = %s, %v; want %s", first, last+1, describe(got), err, describe(want))
	}
	for _, e := range want {
		if term, err := s.Term(e.Index); err != nil || term != e.Term {
			t.Fatalf("Term(%d) = %d, %v; want %d", e.Index, term, err, e.Term)
		}
	}
	if _, err := s.Term(last + 1); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Term(%d) past the end: err = %v, want ErrUnavailable", last+1, err)
	}
}

func testInitialState(t *testing.T, s Writable) {
	hs, cs, err := s.InitialState()
	if err != nil {
		t.Fatalf("InitialState: %v", err)
	}
	if hs == nil || cs == nil {
		t.Fatalf("InitialState returned nil state: %v, %v", hs, cs)
	}
	if !proto.Equal(hs, &raftpb.HardState{}) || !proto.Equal(cs, &raftpb.ConfState{}) {
		t.Fatalf("InitialState of an empty storage = %v, %v; want empty", hs, cs)
	}
	checkLog(t, s, 1, nil)
	if term, err := s.Term(0); err != nil || term != 0 {
		t.Fatalf("Term(0) = %d, %v; want 0, nil", term, err)
	}
	got, err := s.Entries(1, 1, math.MaxUint64)
	if err != nil || len(got) != 0 {
		t.Fatalf("Entries(1, 1) = %s, %v; want empty", describe(got), err)
	}
	if _, err := s.Entries(1, 2, math.MaxUint64); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Entries(1, 2) on an empty log: err = %v, want ErrUnavailable", err)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if idx := snap.GetMetadata().GetIndex(); idx != 0 {
		t.Fatalf("Snapshot of an empty storage has index %d", idx)
	}
}

func testHardState(t *testing.T, s Writable) {
	for _, want := range []*raftpb.HardState{
		{Term: 1, Vote: 3, Commit: 0},
		{Term: 5, Vote: 0, Commit: 2},
	} {
		if err := s.SetHardState(want); err != nil {
			t.Fatalf("SetHardState(%v): %v", want, err)
		}
		got, _, err := s.InitialState()
		if err != nil || !proto.Equal(got, want) {
			t.Fatalf("InitialState() hard state = %v, %v; want %v", got, err, want)
		}
	}
	// A snapshot replaces the log, not the hard state.
	fill(t, s, 4, 2)
	got, cs, err := s.InitialState()
	if err != nil || !proto.Equal(got, &raftpb.HardState{Term: 5, Commit: 2}) {
		t.Fatalf("hard state after ApplySnapshot = %v, %v", got, err)
	}
	if !proto.Equal(cs, &raftpb.ConfState{Voters: []uint64{1}}) {
		t.Fatalf("conf state after ApplySnapshot = %v, want the snapshot's", cs)
	}
}

func testAppend(t *testing.T, s Writable) {
	if err := s.Append(nil); err != nil {
		t.Fatalf("Append(nil): %v", err)
	}
	checkLog(t, s, 1, nil)
	if err := s.Append(ents(1, 1, 1, 2)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	checkLog(t, s, 1, ents(1, 1, 1, 2))
	// Directly after the end.
	if err := s.Append(ents(4, 3, 3)); err != nil {
		t.Fatalf("Append at the end: %v", err)
	}
	checkLog(t, s, 1, ents(1, 1, 1, 2, 3, 3))
	// Overlapping identical entries, extending the log.
	if err := s.Append(ents(4, 3, 3, 3)); err != nil {
		t.Fatalf("overlapping Append: %v", err)
	}
	checkLog(t, s, 1, ents(1, 1, 1, 2, 3, 3, 3))
	// Entries with data survive the round trip.
	withData := []*raftpb.Entry{{Index: 7, Term: 4, Type: raftpb.EntryConfChange, Data: []byte("cc")}}
	if err := s.Append(withData); err != nil {
		t.Fatalf("Append with data: %v", err)
	}
	checkLog(t, s, 1, append(ents(1, 1, 1, 2, 3, 3, 3), withData...))
}

func testAppendOverwrite(t *testing.T, s Writable) {
	base := []uint64{1, 1, 2, 2, 3}
	// Overwrite at every position, with a shorter, equal and longer suffix.
	for at := uint64(1); at <= uint64(len(base)); at++ {
		for _, n := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("at=%d/len=%d", at, n), func(t *testing.T) {
				// Reset the storage: a snapshot newer than anything
				// before discards the log.
				snapIndex := 10 * (at*10 + uint64(n))
				fill(t, s, snapIndex, 1, base...)
				over := make([]uint64, n)
				for i := range over {
					over[i] = 9
				}
				first := snapIndex + at
				if err := s.Append(ents(first, over...)); err != nil {
					t.Fatalf("Append: %v", err)
				}
				want := append(ents(snapIndex+1, base[:at-1]...), ents(first, over...)...)
				checkLog(t, s, snapIndex+1, want)
			})
		}
	}
}

func testAppendGap(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2)
	err := s.Append(ents(5, 2))
	if !errors.Is(err, raft.ErrEntryGap) {
		t.Fatalf("Append leaving a gap: err = %v, want ErrEntryGap", err)
	}
	checkLog(t, s, 1, ents(1, 1, 1, 2))
}

func testAppendMalformed(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2)
	for _, tt := range []struct {
		name string
		ents []*raftpb.Entry
	}{
		{"hole", []*raftpb.Entry{{Index: 3, Term: 2}, {Index: 5, Term: 2}}},
		{"repeat", []*raftpb.Entry{{Index: 4, Term: 2}, {Index: 4, Term: 2}}},
		{"backwards", []*raftpb.Entry{{Index: 4, Term: 2}, {Index: 3, Term: 2}}},
		{"nil", []*raftpb.Entry{{Index: 4, Term: 2}, nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			noPanic(t, "Append", func() { err = s.Append(tt.ents) })
			if err == nil {
				t.Fatalf("Append(%s) succeeded, want an error", tt.name)
			}
			checkLog(t, s, 1, ents(1, 1, 1, 2))
		})
	}
}

func testAppendCompacted(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2, 2, 3)
	if err := s.Compact(3); err != nil {
		t.Fatalf("Compact(3): %v", err)
	}
	// Entirely compacted: ignored.
	if err := s.Append(ents(1, 1, 1)); err != nil {
		t.Fatalf("Append of compacted entries: %v", err)
	}
	checkLog(t, s, 4, ents(4, 2, 3))
	// Partly compacted: the compacted prefix is ignored, the rest applies.
	if err := s.Append(ents(2, 1, 2, 4, 4, 4)); err != nil {
		t.Fatalf("Append straddling the compaction point: %v", err)
	}
	checkLog(t, s, 4, ents(4, 4, 4, 4))
}

func testAppendKeepsEarlierResults(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2, 2)
	before, err := s.Entries(1, 5, math.MaxUint64)
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	want := describe(before)
	if err := s.Append(ents(2, 5, 5, 5, 5)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Compact(2); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if got := describe(before); got != want {
		t.Fatalf("an earlier Entries result changed from %s to %s", want, got)
	}
}

// entriesLog is the log the Entries tests read: compacted to 3/3, entries
// 4..6 with terms 3, 4, 5.
func entriesLog(t *testing.T, s Writable) {
	fill(t, s, 3, 3, 3, 4, 5)
}

func testEntries(t *testing.T, s Writable) {
	entriesLog(t, s)
	all := ents(4, 3, 4, 5)
	for _, tt := range []struct {
		lo, hi  uint64
		want    []*raftpb.Entry
		wantErr error // nil: success; errAny: any error
	}{
		{lo: 2, hi: 6, wantErr: raft.ErrCompacted},
		{lo: 3, hi: 4, wantErr: raft.ErrCompacted},
		{lo: 3, hi: 3, wantErr: raft.ErrCompacted},
		{lo: 4, hi: 4, want: nil},
		{lo: 4, hi: 5, want: all[:1]},
		{lo: 4, hi: 7, want: all},
		{lo: 5, hi: 7, want: all[1:]},
		{lo: 6, hi: 7, want: all[2:]},
		{lo: 7, hi: 7, want: nil},
		{lo: 4, hi: 8, wantErr: raft.ErrUnavailable},
		{lo: 7, hi: 8, wantErr: raft.ErrUnavailable},
		{lo: 6, hi: 5, wantErr: errAny},
		{lo: 7, hi: 4, wantErr: errAny},
		{lo: 0, hi: 0, wantErr: raft.ErrCompacted},
		{lo: 0, hi: math.MaxUint64, wantErr: raft.ErrCompacted},
		{lo: 5, hi: math.MaxUint64, wantErr: raft.ErrUnavailable},
		{lo: math.MaxUint64, hi: math.MaxUint64, wantErr: raft.ErrUnavailable},
		{lo: math.MaxUint64, hi: 5, wantErr: errAny},
	} {
		var got []*raftpb.Entry
		var err error
		what := fmt.Sprintf("Entries(%d, %d)", tt.lo, tt.hi)
		noPanic(t, what, func() { got, err = s.Entries(tt.lo, tt.hi, math.MaxUint64) })
		checkResult(t, what, got, err, tt.want, tt.wantErr)
	}
}

// errAny stands for "some error" in test tables.
var errAny = errors.New("any error")

func checkResult(t *testing.T, what string, got []*raftpb.Entry, err error, want []*raftpb.Entry, wantErr error) {
	t.Helper()
	switch {
	case wantErr == errAny:
		if err == nil {
			t.Errorf("%s = %s, want an error", what, describe(got))
		}
	case wantErr != nil:
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: err = %v, want %v", what, err, wantErr)
		}
	case err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case !equalEntries(got, want):
		t.Errorf("%s = %s, want %s", what, describe(got), describe(want))
	}
}

func testEntriesSizeLimit(t *testing.T, s Writable) {
	all := []*raftpb.Entry{
		{Index: 1, Term: 1, Data: make([]byte, 10)},
		{Index: 2, Term: 1, Data: make([]byte, 20)},
		{Index: 3, Term: 2, Data: make([]byte, 30)},
		{Index: 4, Term: 2, Data: make([]byte, 40)},
	}
	if err := s.Append(all); err != nil {
		t.Fatalf("Append: %v", err)
	}
	size := func(es []*raftpb.Entry) uint64 {
		var n uint64
		for _, e := range es {
			n += uint64(proto.Size(e))
		}
		return n
	}
	for _, tt := range []struct {
		lo, hi, maxSize uint64
		want            []*raftpb.Entry
	}{
		// At least one entry, however small the limit.
		{1, 5, 0, all[:1]},
		{1, 5, size(all[:1]) - 1, all[:1]},
		{3, 5, 1, all[2:3]},
		// Exactly at a boundary, and one byte short of the next.
		{1, 5, size(all[:1]), all[:1]},
		{1, 5, size(all[:2]) - 1, all[:1]},
		{1, 5, size(all[:2]), all[:2]},
		{1, 5, size(all[:3]), all[:3]},
		{1, 5, size(all) - 1, all[:3]},
		{1, 5, size(all), all},
		{2, 4, size(all[1:3]), all[1:3]},
		// The limit never extends the range.
		{2, 4, math.MaxUint64, all[1:3]},
	} {
		var got []*raftpb.Entry
		var err error
		what := fmt.Sprintf("Entries(%d, %d, %d)", tt.lo, tt.hi, tt.maxSize)
		noPanic(t, what, func() { got, err = s.Entries(tt.lo, tt.hi, tt.maxSize) })
		checkResult(t, what, got, err, tt.want, nil)
	}
}

func testEntriesResultNotAliased(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 2, 3, 4)
	got, err := s.Entries(1, 3, math.MaxUint64)
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	// The caller may not modify the result, but appending to it must
	// not reach into the storage either.
	_ = append(got, &raftpb.Entry{Index: 3, Term: 99})
	checkLog(t, s, 1, ents(1, 1, 2, 3, 4))
}

func testTerm(t *testing.T, s Writable) {
	entriesLog(t, s)
	for _, tt := range []struct {
		i, want uint64
		wantErr error
	}{
		{i: 0, wantErr: raft.ErrCompacted},
		{i: 2, wantErr: raft.ErrCompacted},
		{i: 3, want: 3}, // the compaction point
		{i: 4, want: 3},
		{i: 5, want: 4},
		{i: 6, want: 5},
		{i: 7, wantErr: raft.ErrUnavailable},
		{i: math.MaxUint64, wantErr: raft.ErrUnavailable},
	} {
		var got uint64
		var err error
		noPanic(t, fmt.Sprintf("Term(%d)", tt.i), func() { got, err = s.Term(tt.i) })
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Term(%d): err = %v, want %v", tt.i, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Term(%d) = %d, %v; want %d", tt.i, got, err, tt.want)
		}
	}
}

func testCompact(t *testing.T, s Writable) {
	entriesLog(t, s) // compacted to 3, entries 4..6
	for _, tt := range []struct {
		i       uint64
		wantErr error
	}{
		{0, raft.ErrCompacted},
		{2, raft.ErrCompacted},
		{3, raft.ErrCompacted},
		{7, errAny},
		{math.MaxUint64, errAny},
	} {
		var err error
		noPanic(t, fmt.Sprintf("Compact(%d)", tt.i), func() { err = s.Compact(tt.i) })
		if tt.wantErr == errAny && err == nil || tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
			t.Errorf("Compact(%d): err = %v, want %v", tt.i, err, tt.wantErr)
		}
		checkLog(t, s, 4, ents(4, 3, 4, 5))
	}

	if err := s.Compact(4); err != nil {
		t.Fatalf("Compact(4): %v", err)
	}
	checkLog(t, s, 5, ents(5, 4, 5))
	if term, err := s.Term(4); err != nil || term != 3 {
		t.Fatalf("Term(4) at the compaction point = %d, %v; want 3", term, err)
	}
	if _, err := s.Term(3); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Term(3) below the compaction point: err = %v, want ErrCompacted", err)
	}
	// Compacting everything leaves an empty log that can grow again.
	if err := s.Compact(6); err != nil {
		t.Fatalf("Compact(6): %v", err)
	}
	checkLog(t, s, 7, nil)
	if term, err := s.Term(6); err != nil || term != 5 {
		t.Fatalf("Term(6) after compacting everything = %d, %v; want 5", term, err)
	}
	if err := s.Append(ents(7, 6)); err != nil {
		t.Fatalf("Append after compacting everything: %v", err)
	}
	checkLog(t, s, 7, ents(7, 6))
	// Compaction does not create a snapshot.
	snap, err := s.Snapshot()
	if err != nil || snap.GetMetadata().GetIndex() != 3 {
		t.Fatalf("Snapshot() after Compact = %v, %v; want the snapshot at 3", snap, err)
	}
}

func testCreateSnapshot(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2, 2, 3)
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	data := []byte("state@3")
	snap, err := s.CreateSnapshot(3, cs, data)
	if err != nil {
		t.Fatalf("CreateSnapshot(3): %v", err)
	}
	want := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{Index: 3, Term: 2, ConfState: cs}}
	if !proto.Equal(snap, want) {
		t.Fatalf("CreateSnapshot(3) = %v, want %v", snap, want)
	}
	if got, err := s.Snapshot(); err != nil || !proto.Equal(got, want) {
		t.Fatalf("Snapshot() = %v, %v; want %v", got, err, want)
	}
	// Creating a snapshot does not compact.
	checkLog(t, s, 1, ents(1, 1, 1, 2, 2, 3))

	for _, tt := range []struct {
		i       uint64
		wantErr error
	}{
		{2, raft.ErrSnapOutOfDate},
		{3, raft.ErrSnapOutOfDate},
		{6, errAny},
		{math.MaxUint64, errAny},
	} {
		var err error
		noPanic(t, fmt.Sprintf("CreateSnapshot(%d)", tt.i), func() { _, err = s.CreateSnapshot(tt.i, cs, nil) })
		if tt.wantErr == errAny && err == nil || tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
			t.Errorf("CreateSnapshot(%d): err = %v, want %v", tt.i, err, tt.wantErr)
		}
	}
	if got, err := s.Snapshot(); err != nil || !proto.Equal(got, want) {
		t.Fatalf("Snapshot() after failed CreateSnapshot = %v, %v; want %v", got, err, want)
	}

	// A nil ConfState keeps the previous one.
	snap, err = s.CreateSnapshot(5, nil, []byte("state@5"))
	if err != nil {
		t.Fatalf("CreateSnapshot(5): %v", err)
	}
	if !proto.Equal(snap.GetMetadata().GetConfState(), cs) || snap.GetMetadata().GetTerm() != 3 {
		t.Fatalf("CreateSnapshot(5, nil) = %v, want term 3 and the previous ConfState", snap)
	}
	if _, got, err := s.InitialState(); err != nil || !proto.Equal(got, cs) {
		t.Fatalf("InitialState() conf state = %v, %v; want %v", got, err, cs)
	}
}

func testCreateSnapshotCompacted(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2, 2, 3)
	if err := s.Compact(4); err != nil {
		t.Fatalf("Compact(4): %v", err)
	}
	var err error
	noPanic(t, "CreateSnapshot(2)", func() { _, err = s.CreateSnapshot(2, nil, nil) })
	if !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("CreateSnapshot before the compaction point: err = %v, want ErrCompacted", err)
	}
	// The compaction point itself still has a known term.
	snap, err := s.CreateSnapshot(4, nil, nil)
	if err != nil || snap.GetMetadata().GetTerm() != 2 {
		t.Fatalf("CreateSnapshot(4) at the compaction point = %v, %v; want term 2", snap, err)
	}
}

func testApplySnapshot(t *testing.T, s Writable) {
	fill(t, s, 0, 0, 1, 1, 2)
	cs := &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}
	snap := &raftpb.Snapshot{Data: []byte("x"), Metadata: &raftpb.SnapshotMetadata{Index: 10, Term: 4, ConfState: cs}}
	if err := s.ApplySnapshot(snap); err != nil {
		t.Fatalf("ApplySnapshot(10): %v", err)
	}
	checkLog(t, s, 11, nil)
	if term, err := s.Term(10); err != nil || term != 4 {
		t.Fatalf("Term(10) after ApplySnapshot = %d, %v; want 4", term, err)
	}
	if _, err := s.Entries(10, 11, math.MaxUint64); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Entries(10, 11) after ApplySnapshot: err = %v, want ErrCompacted", err)
	}
	if got, err := s.Snapshot(); err != nil || !proto.Equal(got, snap) {
		t.Fatalf("Snapshot() = %v, %v; want %v", got, err, snap)
	}
	if _, got, err := s.InitialState(); err != nil || !proto.Equal(got, cs) {
		t.Fatalf("InitialState() conf state = %v, %v; want %v", got, err, cs)
	}

	// Older and equal snapshots are refused and change nothing.
	for _, idx := range []uint64{10, 5, 0} {
		old := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: idx, Term: 4}}
		var err error
		noPanic(t, "ApplySnapshot", func() { err = s.ApplySnapshot(old) })
		if !errors.Is(err, raft.ErrSnapOutOfDate) {
			t.Errorf("ApplySnapshot(%d) after 10: err = %v, want ErrSnapOutOfDate", idx, err)
		}
	}
	checkLog(t, s, 11, nil)

	// The log continues after the snapshot.
	if err := s.Append(ents(11, 4, 5)); err != nil {
		t.Fatalf("Append after ApplySnapshot: %v", err)
	}
	checkLog(t, s, 11, ents(11, 4, 5))

	// A snapshot inside the current log still replaces all of it.
	mid := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 11, Term: 4, ConfState: cs}}
	if err := s.ApplySnapshot(mid); err != nil {
		t.Fatalf("ApplySnapshot(11): %v", err)
	}
	checkLog(t, s, 12, nil)

	// A created snapshot also orders later ApplySnapshot calls.
	if err := s.Append(ents(12, 5, 5)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if _, err := s.CreateSnapshot(13, nil, nil); err != nil {
		t.Fatalf("CreateSnapshot(13): %v", err)
	}
	old := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 12, Term: 5}}
	if err := s.ApplySnapshot(old); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Fatalf("ApplySnapshot(12) after CreateSnapshot(13): err = %v, want ErrSnapOutOfDate", err)
	}
}
