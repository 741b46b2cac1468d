package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// snapFiles lists the snapshot directory of a data directory.
func snapFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, snapDirName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// TestSnapshotDataInFile checks that snapshot data, created or received,
// is kept in one file outside pebble, that the pebble record leaves it
// out, that a restart reads it back, and that replaced and leftover files
// are removed.
func TestSnapshotDataInFile(t *testing.T) {
	dir := t.TempDir()
	s := openTestStorage(t, dir, storageOptions{})
	if err := s.Append(ents(1, 1, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	data1 := bytes.Repeat([]byte("a"), 1000)
	if _, err := s.CreateSnapshot(3, &raftpb.ConfState{Voters: []uint64{1}}, data1); err != nil {
		t.Fatal(err)
	}
	if got, want := snapFiles(t, dir), []string{snapFileName(1, 3)}; !slices.Equal(got, want) {
		t.Fatalf("snapshot files %v, want %v", got, want)
	}
	rec, _, err := s.get(keySnapshot)
	if err != nil || len(rec) >= len(data1) {
		t.Fatalf("the pebble record holds %d bytes (%v); the data should be in the file", len(rec), err)
	}
	// A received snapshot replaces the file.
	data2 := bytes.Repeat([]byte("b"), 2000)
	recv := &raftpb.Snapshot{Data: data2, Metadata: &raftpb.SnapshotMetadata{Index: 9, Term: 2, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2}}}}
	if err := s.ApplySnapshot(recv); err != nil {
		t.Fatal(err)
	}
	if got, want := snapFiles(t, dir), []string{snapFileName(2, 9)}; !slices.Equal(got, want) {
		t.Fatalf("after a received snapshot: files %v, want %v", got, want)
	}
	if err := s.crash(); err != nil {
		t.Fatal(err)
	}
	// Files a crash may leave behind: a half-written one and one whose
	// record was never committed.
	for _, name := range []string{snapFileName(2, 12) + ".tmp", snapFileName(2, 11)} {
		if err := os.WriteFile(filepath.Join(dir, snapDirName, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = openTestStorage(t, dir, storageOptions{})
	defer s.close()
	snap, _ := s.Snapshot()
	if snap.Metadata.Index != 9 || !bytes.Equal(snap.Data, data2) {
		t.Fatalf("after restart: snapshot at %d with %d bytes of data, want 9 with %d", snap.Metadata.Index, len(snap.Data), len(data2))
	}
	if got, want := snapFiles(t, dir), []string{snapFileName(2, 9)}; !slices.Equal(got, want) {
		t.Fatalf("after restart: files %v, want only %v", got, want)
	}
}

// TestSnapshotFileCorruption checks that a damaged or missing snapshot
// file is refused at start, not read as an empty state.
func TestSnapshotFileCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(path string) error
		wantMsg string
	}{
		{"flipped byte", func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b[10] ^= 1
			return os.WriteFile(path, b, 0o644)
		}, "checksum"},
		{"truncated", func(path string) error { return os.Truncate(path, 10) }, "holds 10 bytes"},
		{"missing", os.Remove, "snapshot file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStorage(t, dir, storageOptions{})
			if err := s.Append(ents(1, 1, 1, 1)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateSnapshot(2, nil, bytes.Repeat([]byte("z"), 100)); err != nil {
				t.Fatal(err)
			}
			if err := s.close(); err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(filepath.Join(dir, snapDirName, snapFileName(1, 2))); err != nil {
				t.Fatal(err)
			}
			_, err := openStorage(dir, 7, 1, storageOptions{})
			if !errors.Is(err, ErrDataDirCorrupt) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("openStorage: err = %v, want ErrDataDirCorrupt mentioning %q", err, tc.wantMsg)
			}
		})
	}
}

// TestSnapFileRecordRefusesPaths checks that a record naming a path
// outside the snapshot directory is refused.
func TestSnapFileRecordRefusesPaths(t *testing.T) {
	for _, name := range []string{"../../etc/passwd", "", "a/b.snap", "x.txt"} {
		b := snapFile{name: name, size: 1}.marshal()
		if _, err := unmarshalSnapFile(b); err == nil {
			t.Errorf("record naming %q accepted", name)
		}
	}
	f := snapFile{name: snapFileName(3, 4), size: 5, crc: 6}
	if got, err := unmarshalSnapFile(f.marshal()); err != nil || got != f {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, f)
	}
}
