package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// The pebble key layout. Every key starts with "raft/" so that a data
// directory can later hold other keyspaces without ambiguity. Log entries
// are keyed by their index in big-endian order, so that pebble's byte order
// is log order and a range of indexes is a key range (deleted with one
// range tombstone on truncation and compaction).
var (
	keyMeta      = []byte("raft/meta")      // storageMeta, protowire-encoded
	keyHardState = []byte("raft/hardstate") // raftpb.HardState
	// keySnapshot holds the latest snapshot as a raftpb.Snapshot; its data
	// is in a file when keySnapshotFile names one (see storage_snapfile.go).
	keySnapshot = []byte("raft/snapshot")
	// keyCompacted holds the compaction point as a raftpb.Entry with only
	// Index and Term set. It may lie after the snapshot index when the log
	// was compacted further than the latest snapshot.
	keyCompacted = []byte("raft/compacted")
	// prefixLog + 8-byte big-endian index → raftpb.Entry.
	prefixLog = []byte("raft/log/")
)

// storageFormat is the version of the key layout above, written into the
// metadata so that a future layout can refuse (or migrate) an old one
// instead of misreading it.
const storageFormat = 1

func logKey(index uint64) []byte {
	k := make([]byte, len(prefixLog)+8)
	copy(k, prefixLog)
	binary.BigEndian.PutUint64(k[len(prefixLog):], index)
	return k
}

// logKeyEnd is the first key after every log key.
func logKeyEnd() []byte {
	k := bytes.Clone(prefixLog)
	k[len(k)-1]++
	return k
}

// parseLogKey returns the index in a log key.
func parseLogKey(k []byte) (uint64, error) {
	if len(k) != len(prefixLog)+8 || !bytes.HasPrefix(k, prefixLog) {
		return 0, fmt.Errorf("malformed log key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(prefixLog):]), nil
}

// storageMeta identifies what a data directory belongs to. It is written
// once, when the directory is created, and checked on every start so that a
// node never runs on another node's (or another cluster's) data.
type storageMeta struct {
	format    uint64
	clusterID uint64
	nodeID    uint64
}

// The meta record is a protobuf message written with protowire (there is
// no generated type for it): field 1 format, 2 cluster ID, 3 node ID.
func (m storageMeta) marshal() []byte {
	b := appendVarintField(nil, 1, m.format)
	b = appendVarintField(b, 2, m.clusterID)
	return appendVarintField(b, 3, m.nodeID)
}

func unmarshalStorageMeta(b []byte) (storageMeta, error) {
	var m storageMeta
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return m, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.VarintType || num < 1 || num > 3 {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return m, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return m, protowire.ParseError(n)
		}
		b = b[n:]
		switch num {
		case 1:
			m.format = v
		case 2:
			m.clusterID = v
		case 3:
			m.nodeID = v
		}
	}
	return m, nil
}

// ErrDataDirMismatch is returned by openStorage when the data directory
// belongs to another node or cluster, or was written in an unknown format.
var ErrDataDirMismatch = errors.New("data directory belongs to another node or cluster")

// ErrDataDirCorrupt is returned by openStorage when the data directory
// holds records that cannot be decoded or that contradict each other.
var ErrDataDirCorrupt = errors.New("data directory is corrupt")

// storageOptions tunes a diskStorage. The zero value is usable.
type storageOptions struct {
	// tailEntries and tailBytes bound the in-memory copy of the newest log
	// entries, which serves almost all of raft's reads (replication reads
	// what was just appended). Zero means 8192 entries and 64 MiB.
	tailEntries int
	tailBytes   int
	// noSync turns off fsync of the write batches. Only for tests and
	// benchmarks that measure something else: a node that loses a write
	// it acknowledged breaks raft's safety.
	noSync bool
	// uncheckedCommit skips the start-up check that the hard state's
	// commit index lies within the log. Raft never writes such a state,
	// but the storage contract suite does, and reopening its storages
	// must not refuse them. Tests only.
	uncheckedCommit bool
	// failWrite, if set, is called before every log write; an error it
	// returns fails the write. Tests only: a disk that stops writing.
	failWrite func() error
	// fs is the file system of pebble and the snapshot files; nil means
	// the operating system's. Tests use pebble's in-memory one, which can
	// simulate a crash.
	fs vfs.FS
}

// diskStorage is a raft.Storage persisted in a pebble database. Every write
// (one per Ready in the node loop, see saveReady) is one atomic pebble
// batch, synced to disk unless raft says it need not be.
//
// Concurrency: raft reads through the Storage methods from its own
// goroutine while the node loop writes. writeMu serializes writers; mu
// guards the cached fields, which are what readers consult first. A write
// that only appends after the last index commits to pebble without holding
// mu (nothing a reader may ask for changes), so raft is not blocked for
// the duration of an fsync in the common case.
type diskStorage struct {
	db   *pebble.DB
	dir  string
	opts storageOptions
	// snapMu serializes the writers of the snapshot record: CreateSnapshot
	// (which may run off the node loop) and writes that install a received
	// snapshot. Lock order: snapMu, then writeMu, then mu.
	snapMu sync.Mutex
	// snapFile is the name of the file holding the current snapshot's
	// data, or "" if it is inline or empty. Guarded by snapMu.
	snapFile string
	writeMu  sync.Mutex
	closed   bool // guarded by writeMu

	mu sync.Mutex
	// hardState is never modified in place.
	hardState *raftpb.HardState
	// snapshot is the latest snapshot (with its data); never nil, never
	// modified in place.
	snapshot *raftpb.Snapshot
	// compactIndex and compactTerm are the compaction point: FirstIndex-1
	// and its term. Invariant: compactIndex <= lastIndex. The snapshot
	// index may lie on either side (CreateSnapshot does not compact).
	compactIndex, compactTerm uint64
	// lastIndex is the index of the last entry, or compactIndex for an
	// empty log.
	lastIndex uint64
	// tail holds the newest entries: contiguous, ending at lastIndex, all
	// after compactIndex. Elements visible through returned slices are
	// never overwritten: truncation copies to a fresh array.
	tail      []*raftpb.Entry
	tailBytes int
}

// pebbleLogger keeps pebble's informational chatter out of the server's
// output but passes on its errors.
type pebbleLogger struct{}

func (pebbleLogger) Infof(string, ...any)              {}
func (pebbleLogger) Errorf(format string, args ...any) { log.Printf("pebble: "+format, args...) }
func (pebbleLogger) Fatalf(format string, args ...any) { log.Fatalf("pebble: "+format, args...) }

// openStorage opens (or creates) the pebble database in dir for node
// nodeID of cluster clusterID and loads and checks everything in it. A
// directory that holds something other than a pebble database, a database
// of another node or cluster, or records that fail to decode or contradict
// each other are refused with an error; nothing is ever reset silently.
func openStorage(dir string, clusterID, nodeID uint64, opts storageOptions) (*diskStorage, error) {
	if opts.tailEntries <= 0 {
		opts.tailEntries = 8192
	}
	if opts.tailBytes <= 0 {
		opts.tailBytes = 64 << 20
	}
	if opts.fs == nil {
		opts.fs = vfs.Default
	}
	if err := checkDataDir(opts.fs, dir); err != nil {
		return nil, err
	}
	db, err := pebble.Open(dir, pebbleOptions(opts.fs))
	if err != nil {
		return nil, fmt.Errorf("opening data directory %s: %w", dir, err)
	}
	s := &diskStorage{db: db, dir: dir, opts: opts}
	if err := s.load(clusterID, nodeID); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return s, nil
}

// sstBlockBytes is the block size of the database's tables. The log is
// written in index order, read back in runs (a lagging follower, a
// restart) and deleted in ranges, so nothing gains from pebble's 4 KiB
// default; with 32 KiB blocks a flush or compaction writes and reads in 8
// times fewer syscalls (under the kvbench load: 0.06 pread64 per write
// instead of 0.33, and 0.3 fewer writes).
const sstBlockBytes = 32 << 10

func pebbleOptions(fsys vfs.FS) *pebble.Options {
	o := &pebble.Options{Logger: pebbleLogger{}, FS: fsys}
	for i := range o.Levels {
		o.Levels[i].BlockSize = sstBlockBytes
	}
	return o
}

// checkDataDir refuses a directory that exists, is not empty and does not
// look like a pebble database: pebble would otherwise create its files in
// the middle of whatever the flag pointed at by mistake.
func checkDataDir(fsys vfs.FS, dir string) error {
	names, err := fsys.List(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(names) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	for _, name := range names {
		if strings.HasPrefix(name, "MANIFEST-") {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not empty and holds no pebble database", ErrDataDirCorrupt, dir)
}

// close flushes and closes the database.
// A second close does nothing.
func (s *diskStorage) close() error { return s.closeDB(true) }

// crash closes the database without flushing its memtables, as a killed
// process would leave it: only what was synced to the write-ahead log
// survives. For tests.
func (s *diskStorage) crash() error { return s.closeDB(false) }

func (s *diskStorage) closeDB(flush bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if flush {
		if err := s.db.Flush(); err != nil {
			_ = s.db.Close()
			return err
		}
	}
	return s.db.Close()
}

// get reads one key; found is false if it does not exist.
func (s *diskStorage) get(key []byte) (val []byte, found bool, err error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	val = bytes.Clone(v)
	return val, true, closer.Close()
}

// getProto reads and decodes one record; found is false if it does not
// exist.
func (s *diskStorage) getProto(key []byte, m proto.Message) (found bool, err error) {
	v, found, err := s.get(key)
	if err != nil || !found {
		return found, err
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return true, fmt.Errorf("%w: record %s: %v", ErrDataDirCorrupt, key, err)
	}
	return true, nil
}

// load reads and checks the metadata, hard state, snapshot, compaction
// point and the whole log, and fills the caches.
func (s *diskStorage) load(clusterID, nodeID uint64) error {
	if err := s.loadMeta(clusterID, nodeID); err != nil {
		return err
	}
	s.hardState = &raftpb.HardState{}
	if _, err := s.getProto(keyHardState, s.hardState); err != nil {
		return err
	}
	s.snapshot = emptySnapshot()
	if found, err := s.getProto(keySnapshot, s.snapshot); err != nil {
		return err
	} else if found && s.snapshot.GetMetadata() == nil {
		return fmt.Errorf("%w: snapshot record without metadata", ErrDataDirCorrupt)
	}
	if s.snapshot.Metadata.ConfState == nil {
		s.snapshot.Metadata.ConfState = &raftpb.ConfState{}
	}
	if err := s.loadSnapFile(); err != nil {
		return err
	}
	// The compaction point is independent of the snapshot: CreateSnapshot
	// does not compact, and Compact may go past the latest snapshot.
	// Without a record nothing was ever compacted.
	cp := &raftpb.Entry{}
	if _, err := s.getProto(keyCompacted, cp); err != nil {
		return err
	}
	s.compactIndex, s.compactTerm = cp.Index, cp.Term
	if err := s.loadLog(); err != nil {
		return err
	}
	if c := s.hardState.Commit; c > s.lastIndex && !s.opts.uncheckedCommit {
		return fmt.Errorf("%w: commit index %d is beyond the last log index %d",
			ErrDataDirCorrupt, c, s.lastIndex)
	}
	return nil
}

func emptySnapshot() *raftpb.Snapshot {
	return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{ConfState: &raftpb.ConfState{}}}
}

// loadMeta checks the metadata record, or writes it into an empty database.
func (s *diskStorage) loadMeta(clusterID, nodeID uint64) error {
	want := storageMeta{format: storageFormat, clusterID: clusterID, nodeID: nodeID}
	v, found, err := s.get(keyMeta)
	if err != nil {
		return err
	}
	if !found {
		empty, err := s.isEmpty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: it holds data but no metadata record", ErrDataDirCorrupt)
		}
		return s.db.Set(keyMeta, want.marshal(), pebble.Sync)
	}
	got, err := unmarshalStorageMeta(v)
	if err != nil {
		return fmt.Errorf("%w: metadata record: %v", ErrDataDirCorrupt, err)
	}
	switch {
	case got.format != storageFormat:
		return fmt.Errorf("%w: storage format %d, this build reads format %d",
			ErrDataDirMismatch, got.format, storageFormat)
	case got.clusterID != clusterID:
		return fmt.Errorf("%w: cluster ID %x, expected %x (check --cluster-token)",
			ErrDataDirMismatch, got.clusterID, clusterID)
	case got.nodeID != nodeID:
		return fmt.Errorf("%w: node ID %d, expected %d (check --id and --data-dir)",
			ErrDataDirMismatch, got.nodeID, nodeID)
	}
	return nil
}

func (s *diskStorage) isEmpty() (bool, error) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return false, err
	}
	empty := !it.First()
	if err := it.Close(); err != nil {
		return false, err
	}
	return empty, nil
}

// loadLog scans the whole log, checking that every entry decodes, sits
// under its own index, follows its predecessor and does not go back in
// term, and keeps the newest entries in the tail cache. The log is bounded
// by compaction, so the scan is too.
func (s *diskStorage) loadLog() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefixLog, UpperBound: logKeyEnd()})
	if err != nil {
		return err
	}
	defer it.Close()
	s.lastIndex = s.compactIndex
	prevTerm := s.compactTerm
	for ok := it.First(); ok; ok = it.Next() {
		idx, err := parseLogKey(it.Key())
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDataDirCorrupt, err)
		}
		if idx != s.lastIndex+1 {
			return fmt.Errorf("%w: log entry %d follows %d (compaction point %d)",
				ErrDataDirCorrupt, idx, s.lastIndex, s.compactIndex)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(v, e); err != nil {
			return fmt.Errorf("%w: log entry %d: %v", ErrDataDirCorrupt, idx, err)
		}
		if e.Index != idx || e.Term < prevTerm {
			return fmt.Errorf("%w: log entry %d holds index %d term %d after term %d",
				ErrDataDirCorrupt, idx, e.Index, e.Term, prevTerm)
		}
		s.lastIndex, prevTerm = idx, e.Term
		s.tail = append(s.tail, e)
		s.tailBytes += e.EncodedSize()
		s.trimTail()
	}
	return it.Error()
}

// trimTail drops the oldest cached entries beyond the cache limits. The
// slice is re-based, not cleared: a reader may still hold a subslice of
// the dropped prefix, so its elements must not be written to. The old
// array is collected once appends have moved the tail to a new one.
func (s *diskStorage) trimTail() {
	drop := 0
	for len(s.tail)-drop > s.opts.tailEntries || s.tailBytes > s.opts.tailBytes && len(s.tail)-drop > 1 {
		s.tailBytes -= s.tail[drop].EncodedSize()
		drop++
	}
	if drop > 0 {
		s.tail = s.tail[drop:]
	}
}

// tailFirst returns the index of the first cached entry, or lastIndex+1.
func (s *diskStorage) tailFirst() uint64 {
	return s.lastIndex + 1 - uint64(len(s.tail))
}

// InitialState implements raft.Storage.
func (s *diskStorage) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hardState, s.snapshot.Metadata.ConfState, nil
}

// FirstIndex implements raft.Storage.
func (s *diskStorage) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactIndex + 1, nil
}

// LastIndex implements raft.Storage.
func (s *diskStorage) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastIndex, nil
}

// Snapshot implements raft.Storage. The snapshot carries its data, so a
// MsgSnap built from it is complete.
func (s *diskStorage) Snapshot() (*raftpb.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot, nil
}

// Term implements raft.Storage.
func (s *diskStorage) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.termLocked(i)
}

func (s *diskStorage) termLocked(i uint64) (uint64, error) {
	switch {
	case i < s.compactIndex:
		return 0, raft.ErrCompacted
	case i == s.compactIndex:
		return s.compactTerm, nil
	case i > s.lastIndex:
		return 0, raft.ErrUnavailable
	case i >= s.tailFirst():
		return s.tail[i-s.tailFirst()].Term, nil
	}
	e, err := s.readEntry(i)
	if err != nil {
		return 0, err
	}
	return e.Term, nil
}

// readEntry reads one entry from pebble.
func (s *diskStorage) readEntry(i uint64) (*raftpb.Entry, error) {
	e := &raftpb.Entry{}
	found, err := s.getProto(logKey(i), e)
	if err != nil {
		return nil, err
	}
	if !found || e.Index != i {
		return nil, fmt.Errorf("%w: log entry %d is missing or misplaced", ErrDataDirCorrupt, i)
	}
	return e, nil
}

// Entries implements raft.Storage.
func (s *diskStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case lo <= s.compactIndex:
		return nil, raft.ErrCompacted
	case hi > s.lastIndex+1:
		return nil, fmt.Errorf("%w: entries [%d, %d) requested, last index is %d",
			raft.ErrUnavailable, lo, hi, s.lastIndex)
	case lo > hi:
		return nil, fmt.Errorf("invalid entries range [%d, %d)", lo, hi)
	case lo == hi:
		return nil, nil
	}
	if first := s.tailFirst(); lo >= first {
		// Capped, so that a caller appending to the result copies.
		ents := s.tail[lo-first : hi-first : hi-first]
		return limitEntries(ents, maxSize), nil
	}
	return s.readEntries(lo, hi, maxSize)
}

// limitEntries returns the longest prefix of ents whose encoded size is at
// most maxSize, but at least one entry.
func limitEntries(ents []*raftpb.Entry, maxSize uint64) []*raftpb.Entry {
	var size uint64
	for i, e := range ents {
		size += uint64(e.EncodedSize())
		if size > maxSize && i > 0 {
			return ents[:i:i]
		}
	}
	return ents
}

// readEntries reads [lo, hi) from pebble, up to maxSize bytes (at least
// one entry). The caller has checked the bounds.
func (s *diskStorage) readEntries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: logKey(lo), UpperBound: logKey(hi)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ents []*raftpb.Entry
	var size uint64
	next := lo
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(v, e); err != nil {
			return nil, fmt.Errorf("%w: log entry %d: %v", ErrDataDirCorrupt, next, err)
		}
		if e.Index != next {
			return nil, fmt.Errorf("%w: log entry %d found where %d belongs", ErrDataDirCorrupt, e.Index, next)
		}
		size += uint64(e.EncodedSize())
		if size > maxSize && len(ents) > 0 {
			return ents, nil
		}
		ents = append(ents, e)
		next++
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if next != hi {
		return nil, fmt.Errorf("%w: log entries [%d, %d) are missing", ErrDataDirCorrupt, next, hi)
	}
	return ents, nil
}

var _ raft.Storage = (*diskStorage)(nil)
