package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/seed901663da/raft/raftpb"
)

// crashPointFS wraps pebble's crashable in-memory file system. While
// armed, it records after every change to the file system (a file
// created, renamed, removed, synced, or a directory synced) what a crash
// at that moment could leave, at the two extremes: only what was synced,
// and everything (every unsynced write and directory change survived).
type crashPointFS struct {
	vfs.FS
	mem *vfs.MemFS

	mu     sync.Mutex
	armed  bool
	states []*vfs.MemFS
	rng    *rand.Rand // CrashClone wants one; with 100% it decides nothing
}

func newCrashPointFS() *crashPointFS {
	mem := vfs.NewCrashableMem()
	return &crashPointFS{FS: mem, mem: mem, rng: rand.New(rand.NewPCG(1, 2))}
}

func (c *crashPointFS) arm(on bool) {
	c.mu.Lock()
	c.armed = on
	c.mu.Unlock()
}

// point records the crash state now, if armed.
func (c *crashPointFS) point() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed {
		c.states = append(c.states,
			c.mem.CrashClone(vfs.CrashCloneCfg{}),
			c.mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: c.rng}))
	}
}

func (c *crashPointFS) after(err error) error {
	c.point()
	return err
}

func (c *crashPointFS) file(f vfs.File, err error) (vfs.File, error) {
	c.point()
	if err != nil {
		return nil, err
	}
	return crashPointFile{File: f, c: c}, nil
}

func (c *crashPointFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	return c.file(c.FS.Create(name, cat))
}

func (c *crashPointFS) OpenReadWrite(name string, cat vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return c.file(c.FS.OpenReadWrite(name, cat, opts...))
}

func (c *crashPointFS) OpenDir(name string) (vfs.File, error) {
	return c.file(c.FS.OpenDir(name))
}

func (c *crashPointFS) ReuseForWrite(oldname, newname string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	return c.file(c.FS.ReuseForWrite(oldname, newname, cat))
}

// dirChange records the crash states after a change to directory
// entries, then, since a real file system may make such a change durable
// at any moment without being asked, syncs the directory and records the
// states again. (The in-memory file system only makes it durable when the
// directory is synced.)
func (c *crashPointFS) dirChange(name string, err error) error {
	c.point()
	if err != nil {
		return err
	}
	c.mu.Lock()
	armed := c.armed
	c.mu.Unlock()
	if armed {
		if d, derr := c.FS.OpenDir(c.FS.PathDir(name)); derr == nil {
			_ = d.Sync()
			_ = d.Close()
			c.point()
		}
	}
	return nil
}

func (c *crashPointFS) Remove(name string) error { return c.dirChange(name, c.FS.Remove(name)) }

func (c *crashPointFS) RemoveAll(name string) error {
	return c.dirChange(name, c.FS.RemoveAll(name))
}

func (c *crashPointFS) Rename(oldname, newname string) error {
	return c.dirChange(newname, c.FS.Rename(oldname, newname))
}

func (c *crashPointFS) Link(oldname, newname string) error {
	return c.after(c.FS.Link(oldname, newname))
}

type crashPointFile struct {
	vfs.File
	c *crashPointFS
}

// Write hands the in-memory file a copy: in race builds pebble's MemFS
// scribbles over the buffers it is given, to catch callers that reuse
// them, and the storage keeps the snapshot data it wrote, as io.Writer's
// contract (and the operating system's files) allow.
func (f crashPointFile) Write(p []byte) (int, error) {
	return f.File.Write(bytes.Clone(p))
}

func (f crashPointFile) Sync() error     { return f.c.after(f.File.Sync()) }
func (f crashPointFile) SyncData() error { return f.c.after(f.File.SyncData()) }

func (f crashPointFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	f.c.point()
	return full, err
}

// A crash at any point while the storage replaces its snapshot (one it
// takes itself, then one received from a leader, which also replaces the
// log) leaves a data directory that opens, with either the old snapshot
// or the new one, its data intact, and the log that goes with it. This
// is what the order of the steps guarantees: the new file is synced and
// named in its directory before the record that names it is committed
// (synced), and the old file is removed only after that.
func TestStorageCrashDuringSnapshot(t *testing.T) {
	if problems := snapshotCrashProblems(t); len(problems) > 0 {
		t.Fatalf("%d crash states are wrong; the first: %s", len(problems), problems[0])
	}
}

// snapshotCrashProblems runs the scenario of TestStorageCrashDuringSnapshot
// and returns what is wrong with the crash states it recorded.
func snapshotCrashProblems(t *testing.T) []string {
	t.Helper()
	c := newCrashPointFS()
	const dir = "/data"
	s, err := openStorage(dir, 7, 1, storageOptions{fs: c})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var ents []*raftpb.Entry
	for i := uint64(1); i <= 20; i++ {
		ents = append(ents, &raftpb.Entry{Index: i, Term: 1, Data: []byte{byte(i)}})
	}
	if err := s.Append(ents); err != nil {
		t.Fatal(err)
	}
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	dataA := bytes.Repeat([]byte("a"), 5000)
	if _, err := s.CreateSnapshot(10, cs, dataA); err != nil {
		t.Fatal(err)
	}

	// The snapshot the node takes itself: the log stays.
	dataB := bytes.Repeat([]byte("b"), 7000)
	c.arm(true)
	if _, err := s.CreateSnapshot(15, cs, dataB); err != nil {
		t.Fatal(err)
	}
	c.arm(false)
	statesB := c.states
	c.states = nil

	// A snapshot from the leader, past the log: it replaces the log.
	dataC := bytes.Repeat([]byte("c"), 9000)
	snapC := &raftpb.Snapshot{Data: dataC, Metadata: &raftpb.SnapshotMetadata{Index: 30, Term: 2, ConfState: cs}}
	c.arm(true)
	if err := s.ApplySnapshot(snapC); err != nil {
		t.Fatal(err)
	}
	c.arm(false)
	statesC := c.states

	type outcome struct {
		index     uint64
		data      []byte
		lastIndex uint64
	}
	var problems []string
	check := func(name string, states []*vfs.MemFS, old, new outcome) {
		t.Helper()
		if len(states) < 3 {
			t.Fatalf("%s: only %d crash points recorded", name, len(states))
		}
		seen := map[uint64]int{}
		for i, st := range states {
			r, err := openStorage(dir, 7, 1, storageOptions{fs: st})
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: crash point %d of %d: the data directory does not open: %v", name, i+1, len(states), err))
				continue
			}
			snap, _ := r.Snapshot()
			last, _ := r.LastIndex()
			got := outcome{index: snap.Metadata.Index, data: snap.Data, lastIndex: last}
			var want outcome
			switch got.index {
			case old.index:
				want = old
			case new.index:
				want = new
			default:
				problems = append(problems, fmt.Sprintf("%s: crash point %d: snapshot at %d, want %d or %d", name, i+1, got.index, old.index, new.index))
			}
			if want.data != nil && (!bytes.Equal(got.data, want.data) || got.lastIndex != want.lastIndex) {
				problems = append(problems, fmt.Sprintf("%s: crash point %d: snapshot at %d with %d bytes of data and last index %d; want %d bytes and last index %d",
					name, i+1, got.index, len(got.data), got.lastIndex, len(want.data), want.lastIndex))
			}
			seen[got.index]++
			if err := r.close(); err != nil {
				t.Fatal(err)
			}
		}
		if seen[old.index] == 0 || seen[new.index] == 0 {
			problems = append(problems, fmt.Sprintf("%s: crash points saw snapshots %v; want both %d and %d", name, seen, old.index, new.index))
		}
		t.Log(name, fmt.Sprintf("%d crash points: %v", len(states), seen))
	}
	check("CreateSnapshot", statesB, outcome{10, dataA, 20}, outcome{15, dataB, 20})
	check("ApplySnapshot", statesC, outcome{15, dataB, 20}, outcome{30, dataC, 30})
	return problems
}
