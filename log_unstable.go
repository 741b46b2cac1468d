package raft

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// unstable holds the tail of the log that raft knows about but the
// application has not yet confirmed durable: an incoming snapshot and/or
// entries following it (or following the end of Storage).
//
// Writing is a two-step hand-off. acceptInProgress marks everything current
// as handed to the application for writing ("in progress"), so the next
// Ready does not offer it again; stableTo / stableSnapTo drop it once the
// application reports it durable. Entries can be replaced (a new leader
// overwrites a suffix) while they are in progress; stableTo therefore checks
// the term so that an acknowledgement for the old entry is ignored.
type unstable struct {
	// snapshot is the incoming snapshot not yet persisted, if any.
	// Invariant: if snapshot != nil, offset == snapshot.Metadata.Index+1
	// (entries, if any, follow the snapshot directly).
	snapshot *raftpb.Snapshot
	// entries are the unstable entries.
	// Invariant: entries[i].Index == offset+i.
	//
	// Slices of entries are handed out (Ready, MsgApp) and may still be read
	// after the unstable log changes, so entries is never written in place
	// below its length: truncation copies into a new array, and handed out
	// slices are capped at their length so appends cannot reach them either.
	entries []*raftpb.Entry
	// offset is the index of entries[0], or of the next entry to append if
	// entries is empty.
	offset uint64

	// snapshotInProgress says the snapshot has been handed to the
	// application for writing. Invariant: snapshotInProgress implies
	// snapshot != nil.
	snapshotInProgress bool
	// offsetInProgress is the index of the first entry not yet handed to
	// the application: entries[:offsetInProgress-offset] are being written.
	// Invariant: offset <= offsetInProgress <= offset+len(entries).
	// Entries are written no earlier than the snapshot they follow, so
	// snapshot != nil && !snapshotInProgress implies offsetInProgress ==
	// offset.
	offsetInProgress uint64

	logger *zap.Logger
}

// maybeFirstIndex returns the first index of the log when the unstable part
// determines it, which is only the case with a pending snapshot.
func (u *unstable) maybeFirstIndex() (uint64, bool) {
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index + 1, true
	}
	return 0, false
}

// maybeLastIndex returns the last index of the log if the unstable part
// holds any entry or a snapshot.
func (u *unstable) maybeLastIndex() (uint64, bool) {
	if l := len(u.entries); l != 0 {
		return u.offset + uint64(l) - 1, true
	}
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index, true
	}
	return 0, false
}

// maybeTerm returns the term of the entry at index i if the unstable part
// knows it: i is an unstable entry or the index of the pending snapshot.
func (u *unstable) maybeTerm(i uint64) (uint64, bool) {
	if i < u.offset {
		if u.snapshot != nil && u.snapshot.Metadata.Index == i {
			return u.snapshot.Metadata.Term, true
		}
		return 0, false
	}
	if i-u.offset >= uint64(len(u.entries)) {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// nextEntries returns the unstable entries not yet handed to the
// application, or nil.
func (u *unstable) nextEntries() []*raftpb.Entry {
	start := u.offsetInProgress - u.offset
	if start == uint64(len(u.entries)) {
		return nil
	}
	return u.entries[start:len(u.entries):len(u.entries)]
}

// nextSnapshot returns the pending snapshot if it has not been handed to the
// application yet, or nil.
func (u *unstable) nextSnapshot() *raftpb.Snapshot {
	if u.snapshot == nil || u.snapshotInProgress {
		return nil
	}
	return u.snapshot
}

// acceptInProgress marks everything returned by nextEntries and nextSnapshot
// as being written, so they are not returned again.
func (u *unstable) acceptInProgress() {
	u.offsetInProgress = u.offset + uint64(len(u.entries))
	if u.snapshot != nil {
		u.snapshotInProgress = true
	}
}

// stableTo records that the entries up to and including index i, with the
// entry at i having term t, are durable, and drops them. The report is
// ignored when it does not match the current unstable entries: the entry at
// i may have been overwritten by a newer leader after the write began (the
// term differs), or it may already be stable or covered by a newer
// snapshot.
func (u *unstable) stableTo(i, t uint64) {
	gt, ok := u.maybeTerm(i)
	if !ok || i < u.offset {
		// Unknown index, or the snapshot index: a snapshot is marked
		// stable by stableSnapTo, never by stableTo.
		u.logger.Info("ignoring stable entries outside the unstable log",
			zap.Uint64("index", i), zap.Uint64("term", t),
			zap.Uint64("offset", u.offset), zap.Int("entries", len(u.entries)))
		return
	}
	if gt != t && !mutStableIgnoresTerm() {
		u.logger.Info("ignoring stable entry overwritten by a newer term",
			zap.Uint64("index", i), zap.Uint64("term", t),
			zap.Uint64("current-term", gt))
		return
	}
	n := i + 1 - u.offset
	u.entries = u.entries[n:]
	u.offset = i + 1
	u.offsetInProgress = max(u.offsetInProgress, u.offset)
	u.shrinkEntriesArray()
}

// shrinkEntriesArray reallocates entries once most of its backing array is
// unused. After stableTo drops a prefix, the array still holds the dropped
// entries (so they cannot be collected) and its spare capacity may be far
// larger than what a steady-state workload needs.
func (u *unstable) shrinkEntriesArray() {
	// Reallocating when less than half is used keeps the amortised cost of
	// the copy constant per entry.
	const usedFraction = 2
	switch {
	case cap(u.entries) <= smallEntriesCap:
		// Small arrays are kept for the next appends: they land past
		// anything handed out before, so nothing aliases, and steady-state
		// appends allocate nothing. What they keep alive is bounded.
	case len(u.entries) == 0:
		u.entries = nil
	case len(u.entries)*usedFraction < cap(u.entries):
		ents := make([]*raftpb.Entry, len(u.entries))
		copy(ents, u.entries)
		u.entries = ents
	}
}

// smallEntriesCap is the array size, in entries, below which the unstable
// log neither shrinks its array nor grows it by less than this much.
const smallEntriesCap = 256

// stableSnapTo records that the snapshot at index i is durable.
func (u *unstable) stableSnapTo(i uint64) {
	if u.snapshot != nil && u.snapshot.Metadata.Index == i {
		u.snapshot = nil
		u.snapshotInProgress = false
	}
}

// restore replaces the unstable log with the snapshot s.
func (u *unstable) restore(s *raftpb.Snapshot) {
	u.offset = s.Metadata.Index + 1
	u.offsetInProgress = u.offset
	u.entries = nil
	u.snapshot = s
	u.snapshotInProgress = false
}

// truncateAndAppend appends ents, first dropping every unstable entry at or
// after ents[0].Index. The caller guarantees ents are contiguous and that
// ents[0].Index <= offset+len(entries), i.e. they do not leave a hole.
func (u *unstable) truncateAndAppend(ents []*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	from := ents[0].Index
	switch end := u.offset + uint64(len(u.entries)); {
	case from == end:
		// The common case: the new entries follow on directly. Grow with
		// headroom so that a stream of small appends does not allocate
		// each time (see shrinkEntriesArray).
		if need := len(u.entries) + len(ents); need > cap(u.entries) {
			grown := make([]*raftpb.Entry, len(u.entries), max(2*need, smallEntriesCap/4))
			copy(grown, u.entries)
			u.entries = grown
		}
		u.entries = append(u.entries, ents...)
	case from <= u.offset:
		// Everything unstable is replaced. The stable log is truncated
		// too, from the application's point of view, once it writes these.
		u.logger.Info("replacing the unstable entries", zap.Uint64("from-index", from))
		// Capping ents keeps a later append from writing into the
		// caller's array beyond its slice.
		u.entries = ents[:len(ents):len(ents)]
		u.offset = from
		u.offsetInProgress = u.offset
	case from < end:
		// Keep [offset, from), drop the rest. Copy rather than append in
		// place: the dropped part may still be visible through a slice
		// handed out earlier.
		u.logger.Info("truncating the unstable entries", zap.Uint64("from-index", from))
		keep := u.slice(u.offset, from)
		entries := make([]*raftpb.Entry, len(keep), len(keep)+len(ents))
		copy(entries, keep)
		u.entries = append(entries, ents...)
		// Entries in [from, ...) are no longer in progress: they were
		// replaced.
		u.offsetInProgress = min(u.offsetInProgress, from)
	default:
		panic(fmt.Sprintf("raft: appending unstable entries at index %d would leave a gap after last index %d",
			from, end-1))
	}
}

// slice returns the unstable entries in [lo, hi), capped at their length.
// The range must lie within the unstable entries; callers check it first, so
// a bad range is a violated internal invariant and panics.
func (u *unstable) slice(lo, hi uint64) []*raftpb.Entry {
	u.mustCheckOutOfBounds(lo, hi)
	return u.entries[lo-u.offset : hi-u.offset : hi-u.offset]
}

// mustCheckOutOfBounds panics unless offset <= lo <= hi <= offset+len(entries).
func (u *unstable) mustCheckOutOfBounds(lo, hi uint64) {
	if lo > hi {
		panic(fmt.Sprintf("raft: invalid unstable slice [%d, %d)", lo, hi))
	}
	if upper := u.offset + uint64(len(u.entries)); lo < u.offset || hi > upper {
		panic(fmt.Sprintf("raft: unstable slice [%d, %d) out of bounds [%d, %d)",
			lo, hi, u.offset, upper))
	}
}

// String describes the unstable log for test output and debugging.
func (u *unstable) String() string {
	snap := "none"
	if u.snapshot != nil {
		snap = fmt.Sprintf("%d/%d", u.snapshot.Metadata.Index, u.snapshot.Metadata.Term)
		if u.snapshotInProgress {
			snap += " (in progress)"
		}
	}
	return fmt.Sprintf("snapshot=%s offset=%d in-progress-to=%d entries=%d",
		snap, u.offset, u.offsetInProgress, len(u.entries))
}
