package raft

import (
	"errors"
	"fmt"
	"sync"

	"github.com/seed901663da/raft/raftpb"
)

// ErrCompacted means the requested index lies at or before the point the log
// was compacted to, so its entry is gone. Storage.Entries and Storage.Term
// return it (Term still answers for the compaction point itself, see
// Storage.Term), as do MemoryStorage.Compact when asked to compact to an
// index that is already compacted and MemoryStorage.CreateSnapshot when the
// term of the snapshot index is no longer known.
var ErrCompacted = errors.New("raft: requested index is unavailable due to compaction")

// ErrSnapOutOfDate means a snapshot is not newer than the one the storage
// already holds. MemoryStorage.ApplySnapshot and MemoryStorage.CreateSnapshot
// return it.
var ErrSnapOutOfDate = errors.New("raft: requested index is older than the existing snapshot")

// ErrUnavailable means the requested index lies beyond the last index in the
// log. Storage.Entries and Storage.Term return it.
var ErrUnavailable = errors.New("raft: requested entry at index is unavailable")

// ErrSnapshotTemporarilyUnavailable may be returned by Storage.Snapshot when
// the snapshot cannot be produced right now (typically because it is being
// built in the background). Raft treats it as "try again later" and does not
// give up on the follower waiting for it. MemoryStorage never returns it.
var ErrSnapshotTemporarilyUnavailable = errors.New("raft: snapshot is temporarily unavailable")

// ErrEntryGap means an append would leave a hole between the last entry in
// storage and the first appended entry. MemoryStorage.Append returns it
// (wrapped, with the indexes involved); test for it with errors.Is.
var ErrEntryGap = errors.New("raft: appended entries leave a gap in the log")

// Storage is the read side of the application's durable raft log, as raft
// sees it. Raft only reads through this interface; the application writes
// entries, hard state and snapshots itself (in response to Ready or to
// MsgStorageAppend) and then tells raft they are stable.
//
// The log in storage is a contiguous run of entries [FirstIndex, LastIndex],
// preceded by a compaction point FirstIndex()-1 whose term is still known (it
// is the index and term of the latest snapshot, or 0/0 for a fresh log). An
// empty log has LastIndex == FirstIndex-1.
//
// Ownership: slices and messages returned by a Storage are shared, not
// copied. The caller (raft) must not modify them, nor the entries they point
// to, nor append to a returned slice in place. In return the implementation
// must never modify anything it has returned: when it later overwrites or
// truncates its log it must write to fresh memory. MemoryStorage, for
// example, returns sub-slices of its internal array (capped so an append by
// the caller copies) and builds a new array whenever it truncates.
//
// Errors: the sentinel errors above have fixed meanings. Any other error is
// treated as a storage failure: raft cannot continue safely and panics
// where it has no way to report it.
//
// Implementations must be safe to call from the goroutine that drives raft
// while the application writes to them from another one, if the application
// does so.
type Storage interface {
	// InitialState returns the saved HardState and the ConfState of the
	// latest snapshot. Both are non-nil (empty for a fresh log).
	InitialState() (*raftpb.HardState, *raftpb.ConfState, error)

	// Entries returns the entries with indexes in [lo, hi), in order. The
	// total encoded size of the result is limited to maxSize bytes, except
	// that at least one entry is returned when the range is not empty.
	// lo == hi inside the log gives an empty result. It returns ErrCompacted
	// if lo <= FirstIndex()-1, ErrUnavailable if hi > LastIndex()+1, and a
	// non-nil error for lo > hi. It never panics on out-of-range input.
	Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error)

	// Term returns the term of the entry at index i, for i in
	// [FirstIndex()-1, LastIndex()]. The term of FirstIndex()-1 is kept even
	// though its entry is compacted, because appends after it must match it
	// (the log matching property, §5.3 of the Raft paper). It returns
	// ErrCompacted for smaller i and ErrUnavailable for larger.
	Term(i uint64) (uint64, error)

	// LastIndex returns the index of the last entry in the log, or the
	// compaction point if the log holds no entries.
	LastIndex() (uint64, error)

	// FirstIndex returns the index of the first entry that may be read with
	// Entries. Older entries have been compacted into a snapshot.
	FirstIndex() (uint64, error)

	// Snapshot returns the most recent snapshot. A storage that is still
	// producing one may return ErrSnapshotTemporarilyUnavailable; raft then
	// asks again later.
	Snapshot() (*raftpb.Snapshot, error)
}

// MemoryStorage is a Storage kept in memory, with the write methods an
// application needs to persist what raft hands it. It is used by tests and
// by applications that keep their own durable copy elsewhere.
//
// MemoryStorage is safe for concurrent use. It keeps references to the
// entries and snapshots passed to it; callers must not modify them
// afterwards (raft never does).
type MemoryStorage struct {
	// mu guards every field below. Raft reads through Storage while the
	// application writes, possibly from different goroutines.
	mu sync.Mutex

	// hardState is kept by value: SetHardState copies into it without
	// allocating, and InitialState hands out a fresh copy.
	hardState hardStateValue
	// snapshot is the latest snapshot; never nil, never modified in place.
	snapshot *raftpb.Snapshot
	// ents[0] is a dummy entry carrying the index and term of the compaction
	// point (the latest snapshot or Compact call), so Term works there and
	// index arithmetic needs no special case. ents[i].Index ==
	// ents[0].Index+i. ents always has at least the dummy.
	//
	// Elements of ents are never overwritten: truncation builds a new
	// array, since earlier Entries results may alias the old one.
	ents []*raftpb.Entry
}

// NewMemoryStorage returns an empty MemoryStorage: no entries, compaction
// point 0 with term 0, empty hard state and configuration.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{
		snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
			ConfState: &raftpb.ConfState{},
		}},
		ents: []*raftpb.Entry{{}},
	}
}

// InitialState implements Storage.
func (ms *MemoryStorage) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	cs := ms.snapshot.GetMetadata().GetConfState()
	if cs == nil {
		cs = &raftpb.ConfState{}
	}
	hs := ms.hardState
	return &raftpb.HardState{Term: hs.term, Vote: hs.vote, Commit: hs.commit}, cs, nil
}

// SetHardState saves a copy of st.
func (ms *MemoryStorage) SetHardState(st *raftpb.HardState) error {
	if st == nil {
		return errors.New("raft: SetHardState with nil hard state")
	}
	hs := hardStateValueOf(st)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.hardState = hs
	return nil
}

// Entries implements Storage.
func (ms *MemoryStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	offset := ms.ents[0].Index
	if lo <= offset {
		return nil, ErrCompacted
	}
	if hi > ms.lastIndexLocked()+1 {
		return nil, fmt.Errorf("%w: entries [%d, %d) requested, last index is %d",
			ErrUnavailable, lo, hi, ms.lastIndexLocked())
	}
	if lo > hi {
		return nil, fmt.Errorf("raft: invalid entries range [%d, %d)", lo, hi)
	}
	// The three-index slice caps the result at its length, so a caller that
	// appends to it gets a copy instead of writing into ents.
	ents := ms.ents[lo-offset : hi-offset : hi-offset]
	return limitSize(ents, entryEncodingSize(maxSize)), nil
}

// Term implements Storage.
func (ms *MemoryStorage) Term(i uint64) (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	offset := ms.ents[0].Index
	if i < offset {
		return 0, ErrCompacted
	}
	if i-offset >= uint64(len(ms.ents)) {
		return 0, ErrUnavailable
	}
	return ms.ents[i-offset].Term, nil
}

// LastIndex implements Storage.
func (ms *MemoryStorage) LastIndex() (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.lastIndexLocked(), nil
}

func (ms *MemoryStorage) lastIndexLocked() uint64 {
	return ms.ents[0].Index + uint64(len(ms.ents)) - 1
}

// FirstIndex implements Storage.
func (ms *MemoryStorage) FirstIndex() (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.ents[0].Index + 1, nil
}

// Snapshot implements Storage.
func (ms *MemoryStorage) Snapshot() (*raftpb.Snapshot, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.snapshot, nil
}

// ApplySnapshot replaces the contents of the storage with snap: every entry
// is discarded and the compaction point moves to the snapshot's index. It
// returns ErrSnapOutOfDate if snap is not newer than the current snapshot.
// The storage keeps snap; the caller must not modify it afterwards.
func (ms *MemoryStorage) ApplySnapshot(snap *raftpb.Snapshot) error {
	if snap.GetMetadata() == nil {
		return errors.New("raft: ApplySnapshot with missing snapshot metadata")
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if cur := ms.snapshot.GetMetadata().GetIndex(); snap.Metadata.Index <= cur {
		return fmt.Errorf("%w: applying snapshot at index %d, have %d",
			ErrSnapOutOfDate, snap.Metadata.Index, cur)
	}
	ms.snapshot = snap
	ms.ents = []*raftpb.Entry{{Index: snap.Metadata.Index, Term: snap.Metadata.Term}}
	return nil
}

// CreateSnapshot records a snapshot of the application state as of index i
// (which must be applied), so that Snapshot returns it, for example to send
// to a follower that is too far behind. cs is the configuration in force at
// i; nil keeps the configuration of the previous snapshot. It does not
// compact the log: call Compact for that.
//
// It returns ErrSnapOutOfDate if i is not newer than the current snapshot,
// ErrCompacted if the log was already compacted past i (its term is lost),
// and an error if i is beyond the last index.
func (ms *MemoryStorage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (*raftpb.Snapshot, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if cur := ms.snapshot.GetMetadata().GetIndex(); i <= cur {
		return nil, fmt.Errorf("%w: creating snapshot at index %d, have %d",
			ErrSnapOutOfDate, i, cur)
	}
	offset := ms.ents[0].Index
	if i < offset {
		return nil, fmt.Errorf("%w: creating snapshot at index %d, log compacted to %d",
			ErrCompacted, i, offset)
	}
	if last := ms.lastIndexLocked(); i > last {
		return nil, fmt.Errorf("raft: creating snapshot at index %d beyond last index %d", i, last)
	}
	if cs == nil {
		cs = ms.snapshot.GetMetadata().GetConfState()
	}
	ms.snapshot = &raftpb.Snapshot{
		Data: data,
		Metadata: &raftpb.SnapshotMetadata{
			Index:     i,
			Term:      ms.ents[i-offset].Term,
			ConfState: cs,
		},
	}
	return ms.snapshot, nil
}

// Compact discards the entries up to and including compactIndex; the term
// of compactIndex stays available through Term. The application must only
// compact entries it has applied (and normally snapshotted). It returns
// ErrCompacted if compactIndex is not past the current compaction point and
// an error if it is beyond the last index.
func (ms *MemoryStorage) Compact(compactIndex uint64) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	offset := ms.ents[0].Index
	if compactIndex <= offset {
		return fmt.Errorf("%w: compacting to %d, already compacted to %d",
			ErrCompacted, compactIndex, offset)
	}
	if last := ms.lastIndexLocked(); compactIndex > last {
		return fmt.Errorf("raft: compacting to %d beyond last index %d", compactIndex, last)
	}
	i := compactIndex - offset
	// A fresh array lets the discarded entries be collected, and leaves the
	// old array (possibly aliased by earlier Entries results) untouched.
	ents := make([]*raftpb.Entry, 1, uint64(len(ms.ents))-i)
	ents[0] = &raftpb.Entry{Index: ms.ents[i].Index, Term: ms.ents[i].Term}
	ms.ents = append(ents, ms.ents[i+1:]...)
	return nil
}

// Append adds entries to the log. Entries that conflict with the existing
// log replace it from the first appended index on (a new leader may
// overwrite an uncommitted suffix, §5.3 of the Raft paper); entries at or
// before the compaction point are ignored. entries must be contiguous with
// non-decreasing terms, and the first must not be beyond LastIndex()+1: a
// hole is refused with an error wrapping ErrEntryGap. The storage keeps the
// entries; the caller must not modify them afterwards.
func (ms *MemoryStorage) Append(entries []*raftpb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := checkEntries(entries[0].GetIndex()-1, 0, entries); err != nil {
		return fmt.Errorf("raft: MemoryStorage.Append: %w", err)
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()

	first := ms.ents[0].Index + 1
	last := entries[len(entries)-1].Index
	if last < first {
		return nil // everything is already compacted
	}
	if first > entries[0].Index {
		entries = entries[first-entries[0].Index:]
	}
	switch at := entries[0].Index - ms.ents[0].Index; {
	case at == uint64(len(ms.ents)):
		// Writing past the end never touches elements visible through
		// earlier results: those are capped at our length.
		ms.ents = append(ms.ents, entries...)
	case at < uint64(len(ms.ents)):
		ents := make([]*raftpb.Entry, at, at+uint64(len(entries)))
		copy(ents, ms.ents[:at])
		ms.ents = append(ents, entries...)
	default:
		return fmt.Errorf("%w: appending at index %d, last index is %d",
			ErrEntryGap, entries[0].Index, ms.lastIndexLocked())
	}
	return nil
}
