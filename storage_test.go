package raft_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
	"github.com/seed901663da/raft/rafttest/storagetest"
)

func TestMemoryStorageContract(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storagetest.Writable { return raft.NewMemoryStorage() })
}

func storageEnts(first uint64, n int, term uint64) []*raftpb.Entry {
	out := make([]*raftpb.Entry, n)
	for i := range out {
		out[i] = &raftpb.Entry{Index: first + uint64(i), Term: term}
	}
	return out
}

// SetHardState keeps a copy: the caller may reuse its HardState.
func TestMemoryStorageSetHardStateCopies(t *testing.T) {
	ms := raft.NewMemoryStorage()
	hs := &raftpb.HardState{Term: 2, Vote: 1, Commit: 3}
	if err := ms.SetHardState(hs); err != nil {
		t.Fatal(err)
	}
	hs.Term = 7
	got, _, _ := ms.InitialState()
	if !proto.Equal(got, &raftpb.HardState{Term: 2, Vote: 1, Commit: 3}) {
		t.Fatalf("hard state changed with the caller's copy: %v", got)
	}
	if err := ms.SetHardState(nil); err == nil {
		t.Fatal("SetHardState(nil) succeeded")
	}
}

func TestMemoryStorageRejectsSnapshotWithoutMetadata(t *testing.T) {
	ms := raft.NewMemoryStorage()
	for _, snap := range []*raftpb.Snapshot{nil, {Data: []byte("x")}} {
		if err := ms.ApplySnapshot(snap); err == nil {
			t.Fatalf("ApplySnapshot(%v) succeeded", snap)
		}
	}
}

// The gap error names the indexes involved and still matches ErrEntryGap.
func TestMemoryStorageAppendGapError(t *testing.T) {
	ms := raft.NewMemoryStorage()
	if err := ms.Append(storageEnts(1, 3, 1)); err != nil {
		t.Fatal(err)
	}
	err := ms.Append(storageEnts(6, 1, 1))
	if !errors.Is(err, raft.ErrEntryGap) {
		t.Fatalf("err = %v, want ErrEntryGap", err)
	}
	if want := "raft: appended entries leave a gap in the log: appending at index 6, last index is 3"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

// Readers and a writer run concurrently; run with -race. The assertions
// check the final state, which does not depend on the interleaving.
func TestMemoryStorageConcurrentUse(t *testing.T) {
	ms := raft.NewMemoryStorage()
	const n = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= n; i++ {
			if err := ms.Append(storageEnts(i, 1, 1)); err != nil {
				t.Errorf("Append(%d): %v", i, err)
				return
			}
			if i%50 == 0 {
				if err := ms.Compact(i - 10); err != nil {
					t.Errorf("Compact(%d): %v", i-10, err)
					return
				}
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				first, _ := ms.FirstIndex()
				last, _ := ms.LastIndex()
				// Compaction may overtake us; only errors other than
				// ErrCompacted are wrong.
				ents, err := ms.Entries(first, last+1, math.MaxUint64)
				if err != nil && !errors.Is(err, raft.ErrCompacted) {
					t.Errorf("Entries(%d, %d): %v", first, last+1, err)
					return
				}
				for i, e := range ents {
					if e.Index != first+uint64(i) {
						t.Errorf("Entries(%d, %d) returned index %d at position %d", first, last+1, e.Index, i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	if first != n-10+1 || last != n {
		t.Fatalf("FirstIndex, LastIndex = %d, %d; want %d, %d", first, last, n-9, n)
	}
}

func BenchmarkMemoryStorageEntries(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("ents=%d", n), func(b *testing.B) {
			ms := raft.NewMemoryStorage()
			ents := storageEnts(1, 1024, 1)
			for _, e := range ents {
				e.Data = make([]byte, 64)
			}
			if err := ms.Append(ents); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				lo := uint64(1 + i%(1024-n))
				got, err := ms.Entries(lo, lo+uint64(n), math.MaxUint64)
				if err != nil || len(got) != n {
					b.Fatalf("Entries: %d entries, %v", len(got), err)
				}
			}
		})
	}
}

func BenchmarkMemoryStorageEntriesSizeLimited(b *testing.B) {
	ms := raft.NewMemoryStorage()
	ents := storageEnts(1, 1024, 1)
	for _, e := range ents {
		e.Data = make([]byte, 64)
	}
	if err := ms.Append(ents); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// About 16 entries fit.
		if got, err := ms.Entries(1, 1025, 16*70); err != nil || len(got) == 0 {
			b.Fatalf("Entries: %d entries, %v", len(got), err)
		}
	}
}

func BenchmarkMemoryStorageAppend(b *testing.B) {
	ms := raft.NewMemoryStorage()
	b.ReportAllocs()
	for i := uint64(1); b.Loop(); i++ {
		if err := ms.Append([]*raftpb.Entry{{Index: i, Term: 1}}); err != nil {
			b.Fatal(err)
		}
		// Compact as an application would, so garbage collection of a
		// huge live log does not dominate.
		if i%1024 == 0 && i > 1024 {
			if err := ms.Compact(i - 1024); err != nil {
				b.Fatal(err)
			}
		}
	}
}
