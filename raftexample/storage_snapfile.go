package main

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// Snapshot data lives in a file of its own under <data dir>/snap, not in
// pebble: a multi-MiB value written through pebble goes through its
// write-ahead log, so every synced log write queued behind it waits for it,
// and it fills the memtable, whose flush and compactions then rewrite it.
// Written to a file, it costs one sequential write and one fsync off the
// log's path. Pebble keeps the snapshot's metadata (keySnapshot, with empty
// data) and keySnapshotFile, which names the file and holds its size and
// checksum; both change in one batch, so the record and the file it names
// always agree.
//
// Order of writes, so that a crash at any point leaves a consistent
// directory: the file is written under a temporary name, synced, renamed
// and the directory synced; only then is the record committed; only after
// that is the previous file removed. A crash before the commit leaves an
// unreferenced file, and openStorage removes files the record does not
// name.
//
// A record without keySnapshotFile has its data inline in keySnapshot (as
// written by earlier versions, and for empty data).
const snapDirName = "snap"

// keySnapshotFile: field 1 file name, 2 size (varint), 3 CRC-32C (varint).
var keySnapshotFile = []byte("raft/snapfile")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// snapFile describes the file that holds the current snapshot's data.
type snapFile struct {
	name string
	size uint64
	crc  uint32
}

func (f snapFile) marshal() []byte {
	b := appendStringField(nil, 1, f.name)
	b = appendVarintField(b, 2, f.size)
	return appendVarintField(b, 3, uint64(f.crc))
}

func unmarshalSnapFile(b []byte) (snapFile, error) {
	var f snapFile
	err := forEachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			f.name = string(v)
		case 2:
			size, err := varintValue(v)
			f.size = size
			return err
		case 3:
			crc, err := varintValue(v)
			f.crc = uint32(crc)
			return err
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	// The name is used as a path: it must be one of ours, not "../x".
	if f.name == "" || f.name != filepath.Base(f.name) || !strings.HasSuffix(f.name, ".snap") {
		return f, fmt.Errorf("bad snapshot file name %q", f.name)
	}
	return f, nil
}

func snapFileName(term, index uint64) string {
	return fmt.Sprintf("%016x-%016x.snap", term, index)
}

func (s *diskStorage) snapDir() string { return filepath.Join(s.dir, snapDirName) }

// writeSnapFile writes data durably to the file for a snapshot at
// term/index and describes it.
func (s *diskStorage) writeSnapFile(term, index uint64, data []byte) (snapFile, error) {
	f := snapFile{name: snapFileName(term, index), size: uint64(len(data)), crc: crc32.Checksum(data, crcTable)}
	fsys, dir := s.opts.fs, s.snapDir()
	if _, err := fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// The directory's own entry is durable only once its parent is
		// synced: a crash could otherwise take the directory, and the
		// file the record is about to name, with it.
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			return f, err
		}
		if !s.opts.noSync && !mutSkipSnapDirSync {
			if err := syncDir(fsys, s.dir); err != nil {
				return f, fmt.Errorf("creating the snapshot directory: %w", err)
			}
		}
	}
	tmp := filepath.Join(dir, f.name+".tmp")
	if err := writeFileSync(fsys, tmp, data, !s.opts.noSync); err != nil {
		_ = fsys.Remove(tmp)
		return f, fmt.Errorf("writing snapshot file: %w", err)
	}
	if err := fsys.Rename(tmp, filepath.Join(dir, f.name)); err != nil {
		_ = fsys.Remove(tmp)
		return f, fmt.Errorf("writing snapshot file: %w", err)
	}
	if s.opts.noSync {
		return f, nil
	}
	if err := syncDir(fsys, dir); err != nil {
		return f, fmt.Errorf("writing snapshot file: %w", err)
	}
	return f, nil
}

func writeFileSync(fsys vfs.FS, path string, data []byte, sync bool) error {
	fh, err := fsys.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil && sync {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(fsys vfs.FS, dir string) error {
	d, err := fsys.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFile returns the contents of the file at path.
func readFile(fsys vfs.FS, path string) ([]byte, error) {
	fh, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(fh)
}

// stageSnapshotRecords adds snap's records to b: its metadata, and either
// a reference to f or, without a file, its data inline.
func stageSnapshotRecords(b *pebble.Batch, snap *raftpb.Snapshot, f *snapFile) error {
	if f != nil {
		snap = &raftpb.Snapshot{Metadata: snap.Metadata}
	}
	rec, err := proto.Marshal(snap)
	if err != nil {
		return err
	}
	if err := b.Set(keySnapshot, rec, nil); err != nil {
		return err
	}
	if f == nil {
		return b.Delete(keySnapshotFile, nil)
	}
	return b.Set(keySnapshotFile, f.marshal(), nil)
}

// loadSnapFile reads the data of the snapshot record from its file, if the
// record names one, and removes every other file in the snapshot
// directory: left by a crash before or after a record change.
func (s *diskStorage) loadSnapFile() error {
	v, found, err := s.get(keySnapshotFile)
	if err != nil {
		return err
	}
	var keep string
	if found {
		f, err := unmarshalSnapFile(v)
		if err != nil {
			return fmt.Errorf("%w: record %s: %v", ErrDataDirCorrupt, keySnapshotFile, err)
		}
		path := filepath.Join(s.snapDir(), f.name)
		data, err := readFile(s.opts.fs, path)
		switch {
		case err != nil:
			return fmt.Errorf("%w: snapshot file: %v", ErrDataDirCorrupt, err)
		case uint64(len(data)) != f.size:
			return fmt.Errorf("%w: snapshot file %s holds %d bytes, the record says %d", ErrDataDirCorrupt, path, len(data), f.size)
		case crc32.Checksum(data, crcTable) != f.crc:
			return fmt.Errorf("%w: snapshot file %s fails its checksum", ErrDataDirCorrupt, path)
		}
		s.snapshot.Data = data
		s.snapFile = f.name
		keep = f.name
	}
	names, err := s.opts.fs.List(s.snapDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range names {
		if name != keep {
			if err := s.opts.fs.Remove(filepath.Join(s.snapDir(), name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeSnapFile removes a snapshot file that no record names any more.
// A failure only leaves a file that the next start removes.
func (s *diskStorage) removeSnapFile(name string) {
	if name != "" {
		_ = s.opts.fs.Remove(filepath.Join(s.snapDir(), name))
	}
}
