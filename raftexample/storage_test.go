package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
	"github.com/seed901663da/raft/rafttest/storagetest"
)

func openTestStorage(t *testing.T, dir string, opts storageOptions) *diskStorage {
	t.Helper()
	s, err := openStorage(dir, 7, 1, opts)
	if err != nil {
		t.Fatalf("openStorage: %v", err)
	}
	return s
}

func TestStorageContract(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts storageOptions
	}{
		// The default cache holds the whole log in these tests.
		{"cached", storageOptions{}},
		// A one-entry cache sends almost every read to pebble.
		{"uncached", storageOptions{tailEntries: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storagetest.Writable {
				s := openTestStorage(t, t.TempDir(), tc.opts)
				t.Cleanup(func() { _ = s.close() })
				return s
			})
		})
	}
}

// TestStorageContractReopened runs the contract suite against a storage
// that is closed and reopened after every write, so every answer comes
// from what was read back from disk.
func TestStorageContractReopened(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Writable {
		r := &reopening{t: t, dir: t.TempDir()}
		r.diskStorage = openTestStorage(t, r.dir, storageOptions{uncheckedCommit: true})
		t.Cleanup(func() { _ = r.diskStorage.close() })
		return r
	})
}

type reopening struct {
	*diskStorage
	t   *testing.T
	dir string
}

func (r *reopening) reopen() {
	r.t.Helper()
	if err := r.diskStorage.close(); err != nil {
		r.t.Fatalf("close: %v", err)
	}
	r.diskStorage = openTestStorage(r.t, r.dir, storageOptions{uncheckedCommit: true})
}

func (r *reopening) Append(ents []*raftpb.Entry) error {
	defer r.reopen()
	return r.diskStorage.Append(ents)
}

func (r *reopening) SetHardState(hs *raftpb.HardState) error {
	defer r.reopen()
	return r.diskStorage.SetHardState(hs)
}

func (r *reopening) ApplySnapshot(s *raftpb.Snapshot) error {
	defer r.reopen()
	return r.diskStorage.ApplySnapshot(s)
}

func (r *reopening) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (*raftpb.Snapshot, error) {
	defer r.reopen()
	return r.diskStorage.CreateSnapshot(i, cs, data)
}

func (r *reopening) Compact(i uint64) error {
	defer r.reopen()
	return r.diskStorage.Compact(i)
}

func ents(first uint64, terms ...uint64) []*raftpb.Entry {
	out := make([]*raftpb.Entry, len(terms))
	for i, term := range terms {
		out[i] = &raftpb.Entry{Index: first + uint64(i), Term: term, Data: []byte{byte(i)}}
	}
	return out
}

// TestStorageSaveReadyRestart checks that one Ready's worth of state
// (snapshot, entries, hard state) written by write comes back after a
// restart, including a truncating overwrite.
func TestStorageSaveReadyRestart(t *testing.T) {
	dir := t.TempDir()
	s := openTestStorage(t, dir, storageOptions{})
	snap := &raftpb.Snapshot{Data: []byte("kv"), Metadata: &raftpb.SnapshotMetadata{
		Index: 5, Term: 2, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
	}}
	hs := &raftpb.HardState{Term: 3, Vote: 2, Commit: 7}
	if err := s.write(logWrite{snap: snap, ents: ents(6, 2, 3, 3, 3), hs: hs, sync: true}); err != nil {
		t.Fatalf("write: %v", err)
	}
	// A new leader overwrites 8 and 9.
	if err := s.write(logWrite{ents: ents(8, 4), sync: true}); err != nil {
		t.Fatalf("truncating write: %v", err)
	}
	if err := s.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s = openTestStorage(t, dir, storageOptions{})
	defer s.close()
	gotHS, gotCS, err := s.InitialState()
	if err != nil || !proto.Equal(gotHS, hs) || !proto.Equal(gotCS, snap.Metadata.ConfState) {
		t.Fatalf("InitialState = %v, %v, %v; want %v, %v", gotHS, gotCS, err, hs, snap.Metadata.ConfState)
	}
	if got, _ := s.Snapshot(); !proto.Equal(got, snap) {
		t.Fatalf("Snapshot = %v, want %v", got, snap)
	}
	want := append(ents(6, 2, 3), ents(8, 4)...)
	got, err := s.Entries(6, 9, math.MaxUint64)
	if err != nil || len(got) != len(want) {
		t.Fatalf("Entries(6, 9) = %v, %v", got, err)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	if fi, _ := s.FirstIndex(); fi != 6 {
		t.Fatalf("FirstIndex = %d, want 6", fi)
	}
	if li, _ := s.LastIndex(); li != 8 {
		t.Fatalf("LastIndex = %d, want 8", li)
	}
}

// TestStorageRefusesMismatch checks that a data directory is only opened
// by the node and cluster that created it.
func TestStorageRefusesMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openTestStorage(t, dir, storageOptions{})
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := openStorage(dir, 7, 2, storageOptions{}); !errors.Is(err, ErrDataDirMismatch) || !strings.Contains(err.Error(), "node ID 1, expected 2") {
		t.Fatalf("open as another node: err = %v, want ErrDataDirMismatch naming the IDs", err)
	}
	if _, err := openStorage(dir, 8, 1, storageOptions{}); !errors.Is(err, ErrDataDirMismatch) || !strings.Contains(err.Error(), "cluster ID") {
		t.Fatalf("open in another cluster: err = %v, want ErrDataDirMismatch naming the cluster", err)
	}
	// The right node still opens it: refusing changed nothing.
	s = openTestStorage(t, dir, storageOptions{})
	_ = s.close()
}

// corrupt opens dir's database directly and applies f to it.
func corrupt(t *testing.T, dir string, f func(db *pebble.DB) error) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f(db); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStorageRefusesCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(db *pebble.DB) error
		wantMsg string
	}{
		{"garbage entry", func(db *pebble.DB) error {
			return db.Set(logKey(2), []byte{0xff, 0xff, 0xff}, pebble.Sync)
		}, "log entry 2"},
		{"entry under the wrong index", func(db *pebble.DB) error {
			v, _ := proto.Marshal(&raftpb.Entry{Index: 9, Term: 1})
			return db.Set(logKey(2), v, pebble.Sync)
		}, "log entry 2 holds index 9"},
		{"hole in the log", func(db *pebble.DB) error {
			return db.Delete(logKey(2), pebble.Sync)
		}, "log entry 3 follows 1"},
		{"garbage hard state", func(db *pebble.DB) error {
			return db.Set(keyHardState, []byte{0x0a}, pebble.Sync)
		}, "raft/hardstate"},
		{"commit beyond the log", func(db *pebble.DB) error {
			v, _ := proto.Marshal(&raftpb.HardState{Term: 1, Commit: 10})
			return db.Set(keyHardState, v, pebble.Sync)
		}, "commit index 10"},
		{"garbage snapshot", func(db *pebble.DB) error {
			return db.Set(keySnapshot, []byte{0x12, 0x05}, pebble.Sync)
		}, "raft/snapshot"},
		{"garbage metadata", func(db *pebble.DB) error {
			return db.Set(keyMeta, []byte{0x08}, pebble.Sync)
		}, "metadata record"},
		{"missing metadata", func(db *pebble.DB) error {
			return db.Delete(keyMeta, pebble.Sync)
		}, "no metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStorage(t, dir, storageOptions{})
			if err := s.Append(ents(1, 1, 1, 1)); err != nil {
				t.Fatal(err)
			}
			if err := s.close(); err != nil {
				t.Fatal(err)
			}
			corrupt(t, dir, tc.damage)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("openStorage panicked: %v", r)
					}
				}()
				_, err = openStorage(dir, 7, 1, storageOptions{})
			}()
			if !errors.Is(err, ErrDataDirCorrupt) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("openStorage: err = %v, want ErrDataDirCorrupt mentioning %q", err, tc.wantMsg)
			}
		})
	}
}

func TestStorageRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openStorage(dir, 7, 1, storageOptions{}); !errors.Is(err, ErrDataDirCorrupt) {
		t.Fatalf("openStorage on a foreign directory: err = %v, want ErrDataDirCorrupt", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err == nil {
		t.Fatalf("openStorage created pebble files in a foreign directory")
	}
}

// TestStorageTailCache checks that reads below the cached tail come from
// pebble and agree with the cache.
func TestStorageTailCache(t *testing.T) {
	s := openTestStorage(t, t.TempDir(), storageOptions{tailEntries: 3})
	defer s.close()
	want := ents(1, 1, 1, 2, 2, 3, 3, 3, 4)
	if err := s.Append(want); err != nil {
		t.Fatal(err)
	}
	if n := len(s.tail); n != 3 {
		t.Fatalf("tail holds %d entries, want 3", n)
	}
	got, err := s.Entries(1, 9, math.MaxUint64)
	if err != nil || len(got) != 8 {
		t.Fatalf("Entries(1, 9) = %d entries, %v", len(got), err)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("entry %d = %v, want %v", i+1, got[i], want[i])
		}
	}
	for _, e := range want {
		if term, err := s.Term(e.Index); err != nil || term != e.Term {
			t.Fatalf("Term(%d) = %d, %v; want %d", e.Index, term, err, e.Term)
		}
	}
	// Size limits apply to reads from disk too: at least one entry.
	if got, err := s.Entries(1, 9, 0); err != nil || len(got) != 1 {
		t.Fatalf("Entries(1, 9, 0) = %d entries, %v; want 1", len(got), err)
	}
}

// saveAppends writes a group of asynchronous appends as one batch; the
// log and hard state it leaves must be those of writing the messages one
// by one, overwrites included, and the messages' entry slices must be left
// as they were (raft still holds them).
func TestSaveAppendsMatchesOneByOne(t *testing.T) {
	ent := func(i, term uint64) *raftpb.Entry {
		return &raftpb.Entry{Index: i, Term: term, Data: []byte{byte(i), byte(term)}}
	}
	run := func(first, last, term uint64) []*raftpb.Entry {
		var ents []*raftpb.Entry
		for i := first; i <= last; i++ {
			ents = append(ents, ent(i, term))
		}
		return ents
	}
	app := func(ents []*raftpb.Entry, hsTerm, commit uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MsgStorageAppend, Entries: ents, Term: hsTerm, Vote: 1, Commit: commit}
	}
	for _, tc := range []struct {
		name   string
		before []*raftpb.Entry // stored before the group
		group  []*raftpb.Message
	}{
		{"extend", run(1, 3, 1), []*raftpb.Message{app(run(4, 6, 1), 1, 3), app(nil, 1, 5), app(run(7, 8, 1), 0, 0)}},
		{"overwrite within the group", run(1, 3, 1), []*raftpb.Message{app(run(4, 9, 1), 1, 3), app(run(6, 7, 2), 2, 3)}},
		{"overwrite before the group", run(1, 9, 1), []*raftpb.Message{app(run(5, 6, 2), 2, 4), app(run(7, 8, 2), 0, 0)}},
		{"overwrite of the group's start", run(1, 3, 1), []*raftpb.Message{app(run(4, 6, 1), 1, 3), app(run(2, 3, 3), 3, 1), app(run(4, 4, 3), 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := openTestStorage(t, t.TempDir(), storageOptions{noSync: true})
			defer want.close()
			got := openTestStorage(t, t.TempDir(), storageOptions{noSync: true})
			defer got.close()
			var saved [][]*raftpb.Entry
			for _, m := range tc.group {
				saved = append(saved, append([]*raftpb.Entry(nil), m.Entries...))
			}
			for _, s := range []*diskStorage{want, got} {
				if err := s.Append(tc.before); err != nil {
					t.Fatal(err)
				}
			}
			if err := want.saveAppendsOneByOne(tc.group, true); err != nil {
				t.Fatal(err)
			}
			if err := got.saveAppends(tc.group, true); err != nil {
				t.Fatal(err)
			}
			for i, m := range tc.group {
				if len(m.Entries) != len(saved[i]) {
					t.Fatalf("message %d's entries changed length", i)
				}
				for j := range saved[i] {
					if m.Entries[j] != saved[i][j] {
						t.Fatalf("message %d's entry %d was replaced", i, j)
					}
				}
			}
			wantLast, _ := want.LastIndex()
			gotLast, _ := got.LastIndex()
			if gotLast != wantLast {
				t.Fatalf("last index %d, want %d", gotLast, wantLast)
			}
			wantEnts, err := want.Entries(1, wantLast+1, math.MaxUint64)
			if err != nil {
				t.Fatal(err)
			}
			gotEnts, err := got.Entries(1, gotLast+1, math.MaxUint64)
			if err != nil {
				t.Fatal(err)
			}
			for i := range wantEnts {
				if !proto.Equal(gotEnts[i], wantEnts[i]) {
					t.Fatalf("entry %d = %v, want %v", wantEnts[i].Index, gotEnts[i], wantEnts[i])
				}
			}
			wantHS, _, _ := want.InitialState()
			gotHS, _, _ := got.InitialState()
			if !proto.Equal(gotHS, wantHS) {
				t.Fatalf("hard state %v, want %v", gotHS, wantHS)
			}
		})
	}
}
