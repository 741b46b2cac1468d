package raft

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// raftLog is a node's view of the replicated log: the durable part in
// Storage followed by the unstable part not yet written, plus the commit and
// apply positions.
//
//	snapshot/compacted  |  storage (stable)  |  unstable
//	...... firstIndex-1 | firstIndex ....... | unstable.offset ... lastIndex
//
// Positions along the log:
//
//	applied <= applying <= committed <= lastIndex
//
// Entries up to committed may be handed to the application; applying marks
// how far they have been handed out, applied how far the application has
// confirmed applying them.
type raftLog struct {
	// storage holds the stable entries and the latest snapshot.
	storage Storage

	// unstable holds the entries and snapshot not yet written to storage.
	unstable unstable

	// committed is the highest index known to be stored on a quorum
	// (§5.3 of the Raft paper). It never decreases.
	// Invariant: applying <= committed <= lastIndex().
	committed uint64
	// applying is the highest index handed to the application for applying
	// (through Ready or MsgStorageApply) but possibly not yet applied.
	// Invariant: applied <= applying && applying <= committed.
	applying uint64
	// applied is the highest index the application has reported applied to
	// its state machine.
	// Invariant: applied <= applying.
	applied uint64

	logger *zap.Logger

	// maxApplyingEntsSize limits the total encoded size of entries handed
	// out for applying but not yet reported applied. newLog turns the
	// configuration's 0 ("no limit") into noSizeLimit.
	maxApplyingEntsSize entryEncodingSize
	// applyingEntsSize is the encoded size of the entries in
	// (applied, applying].
	applyingEntsSize entryEncodingSize
	// applyingEntsPaused stops handing out committed entries until some of
	// the applying ones are applied. It is set when the size limit is
	// reached or a batch had to be cut short by it.
	applyingEntsPaused bool
}

// newLog returns a log over storage, starting with everything in storage
// stable and committed/applied at the compaction point (the caller then
// raises committed to the saved HardState's commit index). It returns an
// error if the storage fails or reports an inconsistent log.
// maxApplyingEntsSize 0 means no limit.
func newLog(storage Storage, logger *zap.Logger, maxApplyingEntsSize entryEncodingSize) (*raftLog, error) {
	if storage == nil {
		return nil, errors.New("raft: storage must not be nil")
	}
	if logger == nil {
		return nil, errors.New("raft: logger must not be nil")
	}
	first, err := storage.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: reading first index from storage: %w", err)
	}
	last, err := storage.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: reading last index from storage: %w", err)
	}
	if first == 0 || first > last+1 {
		return nil, fmt.Errorf("raft: storage reports an invalid log: first index %d, last index %d",
			first, last)
	}
	if _, err := storage.Term(first - 1); err != nil {
		return nil, fmt.Errorf("raft: storage does not know the term at its compaction point %d: %w",
			first-1, err)
	}
	if maxApplyingEntsSize == 0 {
		maxApplyingEntsSize = noSizeLimit
	}
	return &raftLog{
		storage: storage,
		unstable: unstable{
			offset:           last + 1,
			offsetInProgress: last + 1,
			logger:           logger,
		},
		committed:           first - 1,
		applying:            first - 1,
		applied:             first - 1,
		logger:              logger,
		maxApplyingEntsSize: maxApplyingEntsSize,
	}, nil
}

// String describes the positions in the log, for test output and debugging.
func (l *raftLog) String() string {
	return fmt.Sprintf("committed=%d applying=%d applied=%d unstable: %s",
		l.committed, l.applying, l.applied, l.unstable.String())
}

// checkEntries verifies that ents can follow the entry (prevIndex, prevTerm)
// in a log: no nil entries, indexes prevIndex+1, prevIndex+2, ... without
// holes, and terms that never decrease, starting at prevTerm or higher (the
// terms in a Raft log are non-decreasing, since a leader only appends its
// own term after what it holds). Entries arriving from outside (messages,
// application writes) are checked with it before they touch any state.
func checkEntries(prevIndex, prevTerm uint64, ents []*raftpb.Entry) error {
	for i, e := range ents {
		if e == nil {
			return fmt.Errorf("entry %d of %d is nil", i, len(ents))
		}
		if want := prevIndex + 1 + uint64(i); e.Index != want || e.Index == 0 {
			return fmt.Errorf("entry %d of %d has index %d, want %d", i, len(ents), e.Index, want)
		}
		if e.Term < prevTerm {
			return fmt.Errorf("entry at index %d has term %d, lower than the term %d before it",
				e.Index, e.Term, prevTerm)
		}
		prevTerm = e.Term
	}
	return nil
}

// maybeAppend handles the entries of a MsgApp on a follower. (index,
// logTerm) identify the entry the leader says precedes ents; if our log has
// no such entry, the append is refused (ok == false) and the leader will
// probe further back (§5.3 of the Raft paper). Otherwise the entries are
// appended from the first one that conflicts with our log (existing matching
// entries are kept: the message may be a stale duplicate, and truncating
// would lose entries the leader already counts as ours), and the commit
// index advances to min(committed, lastnewi), where lastnewi is the index of
// the last entry of the message.
//
// Malformed entries (not contiguous after index, terms decreasing) are
// refused with ok == false.
func (l *raftLog) maybeAppend(index, logTerm, committed uint64, ents ...*raftpb.Entry) (lastnewi uint64, ok bool) {
	if !l.matchTerm(index, logTerm) {
		return 0, false
	}
	if err := checkEntries(index, logTerm, ents); err != nil {
		l.logger.Warn("refusing malformed entries to append",
			zap.Uint64("index", index), zap.Uint64("log-term", logTerm), zap.Error(err))
		return 0, false
	}
	lastnewi = index + uint64(len(ents))
	switch ci := l.findConflict(ents); {
	case ci == 0:
	case ci <= l.committed:
		// Committed entries are durable on a quorum and can never change
		// (leader completeness, §5.4 of the Raft paper). A leader sending
		// something different means the safety of the cluster is gone.
		panic(fmt.Sprintf("raft: entry %d conflicts with a committed entry (committed=%d)",
			ci, l.committed))
	default:
		l.append(ents[ci-index-1:]...)
	}
	l.commitTo(min(committed, lastnewi))
	return lastnewi, true
}

// append adds ents to the log, truncating any entries at or after
// ents[0].Index, and returns the new last index. It is the leader's path (and
// maybeAppend's, after checks): ents must be contiguous and must not
// overwrite committed entries or leave a hole after the last one; breaking
// that is a bug in the caller and panics.
func (l *raftLog) append(ents ...*raftpb.Entry) uint64 {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	if after := ents[0].Index - 1; after < l.committed {
		panic(fmt.Sprintf("raft: appending after index %d would overwrite committed entries (committed=%d)",
			after, l.committed))
	}
	if last := l.lastIndex(); ents[0].Index > last+1 {
		panic(fmt.Sprintf("raft: appending at index %d would leave a gap after last index %d",
			ents[0].Index, last))
	}
	l.unstable.truncateAndAppend(ents)
	return l.lastIndex()
}

// findConflict returns the index of the first entry of ents that is not in
// our log: either its index holds a different term or it is past our last
// index. It returns 0 if every entry is already present. ents must be
// contiguous (checked by the caller).
//
// A matching (index, term) pair implies the whole prefix up to it matches as
// well (the log matching property, §5.3), so one differing term is all it
// takes to mark the start of the suffix to replace.
func (l *raftLog) findConflict(ents []*raftpb.Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			if e.Index <= l.lastIndex() {
				l.logger.Info("found conflicting entry",
					zap.Uint64("index", e.Index),
					zap.Uint64("existing-term", l.zeroTermOnOutOfBounds(l.term(e.Index))),
					zap.Uint64("new-term", e.Term))
			}
			return e.Index
		}
	}
	return 0
}

// findConflictByTerm helps a rejected MsgApp skip back over whole terms
// instead of one index per round trip (the optimisation at the end of §5.3 of
// the Raft paper). It returns the largest index j <= index in our log whose
// term is <= term, and that term. No entry after j can match an entry of
// term <= term on the other side (terms only grow along a log), so the
// leader can resume probing at j.
//
// index is first clamped to our last index: entries we do not hold cannot
// match anything. If the scan reaches compacted entries, their terms are
// unknown; it stops there and returns (that index, 0), a possible match the
// peer will check. (All compacted entries are committed, so they do match
// any current leader's log.) It returns (0, 0) when it runs off the start
// of the log.
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	index = min(index, l.lastIndex())
	for ; index > 0; index-- {
		t, err := l.term(index)
		if err != nil {
			return index, 0
		}
		if t <= term {
			return index, t
		}
	}
	return 0, 0
}

// nextUnstableEnts returns the unstable entries not yet handed to the
// application for writing.
func (l *raftLog) nextUnstableEnts() []*raftpb.Entry {
	return l.unstable.nextEntries()
}

// hasNextUnstableEnts reports whether nextUnstableEnts is non-empty.
func (l *raftLog) hasNextUnstableEnts() bool {
	return len(l.nextUnstableEnts()) > 0
}

// hasNextOrInProgressUnstableEnts reports whether any entry is unstable,
// whether or not it is already being written.
func (l *raftLog) hasNextOrInProgressUnstableEnts() bool {
	return len(l.unstable.entries) > 0
}

// nextUnstableSnapshot returns the unstable snapshot if it has not been
// handed to the application yet.
func (l *raftLog) nextUnstableSnapshot() *raftpb.Snapshot {
	return l.unstable.nextSnapshot()
}

// hasNextUnstableSnapshot reports whether nextUnstableSnapshot is non-nil.
func (l *raftLog) hasNextUnstableSnapshot() bool {
	return l.unstable.nextSnapshot() != nil
}

// hasNextOrInProgressSnapshot reports whether a snapshot is unstable, whether
// or not it is already being written.
func (l *raftLog) hasNextOrInProgressSnapshot() bool {
	return l.unstable.snapshot != nil
}

// acceptUnstable marks the unstable entries and snapshot returned so far as
// being written.
func (l *raftLog) acceptUnstable() {
	l.unstable.acceptInProgress()
}

// nextCommittedEnts returns the committed entries to hand to the application
// next: those in (applying, maxAppliableIndex(committed, allowUnstable)],
// limited in size by the room left under maxApplyingEntsSize (but at least
// one entry). It returns nil while applying is paused, and while a snapshot
// is waiting to be written: entries after it cannot be applied before it.
// committed is the commit index to go by, l.committed or, for a Ready that
// commits entries of its own, beyond it (see RawNode.loneCommit).
func (l *raftLog) nextCommittedEnts(committed uint64, allowUnstable bool) []*raftpb.Entry {
	if l.applyingEntsPaused || l.hasNextOrInProgressSnapshot() {
		return nil
	}
	lo, hi := l.applying+1, l.maxAppliableIndex(committed, allowUnstable)+1
	if lo >= hi {
		return nil
	}
	// Not paused means applyingEntsSize < maxApplyingEntsSize.
	room := l.maxApplyingEntsSize - l.applyingEntsSize
	ents, err := l.slice(lo, hi, room)
	if err != nil {
		// Committed, unapplied entries must be readable: the application
		// may only compact what it has applied.
		panic(fmt.Sprintf("raft: reading committed entries [%d, %d) to apply: %v", lo, hi, err))
	}
	return ents
}

// hasNextCommittedEnts reports whether nextCommittedEnts would return
// entries, without reading them.
func (l *raftLog) hasNextCommittedEnts(committed uint64, allowUnstable bool) bool {
	if l.applyingEntsPaused || l.hasNextOrInProgressSnapshot() {
		return false
	}
	return l.applying < l.maxAppliableIndex(committed, allowUnstable)
}

// maxAppliableIndex returns the highest index that may be handed out for
// applying: the commit index committed, capped at the last stable index
// unless allowUnstable. Applying an entry before it is durable locally is
// safe once it is committed (a quorum has it), which is what allowUnstable
// permits.
func (l *raftLog) maxAppliableIndex(committed uint64, allowUnstable bool) uint64 {
	hi := committed
	if !allowUnstable {
		hi = min(hi, l.unstable.offset-1)
	}
	return hi
}

// acceptApplying records that the committed entries up to index i, of total
// encoded size size, have been handed to the application for applying.
func (l *raftLog) acceptApplying(i uint64, size entryEncodingSize, allowUnstable bool) {
	if i > l.committed || i < l.applying {
		panic(fmt.Sprintf("raft: accepting applying index %d outside [applying=%d, committed=%d]",
			i, l.applying, l.committed))
	}
	l.applying = i
	l.applyingEntsSize += size
	// Pause when the limit is reached, and also when the batch stopped
	// short of what could be applied: the size limit cut it, and handing out
	// the rest in later Readys would exceed the limit by one entry each
	// time. Applying resumes once the application reports progress.
	l.applyingEntsPaused = l.applyingEntsSize >= l.maxApplyingEntsSize ||
		i < l.maxAppliableIndex(l.committed, allowUnstable)
}

// appliedTo records that the application has applied the entries up to
// index i, whose total encoded size (since the previous report) is size.
func (l *raftLog) appliedTo(i uint64, size entryEncodingSize) {
	if i > l.committed || i < l.applied {
		panic(fmt.Sprintf("raft: applied index %d outside [applied=%d, committed=%d]",
			i, l.applied, l.committed))
	}
	l.applied = i
	l.applying = max(l.applying, i)
	// Sizes may be reported for entries that were never counted (a
	// snapshot, or entries applied without going through acceptApplying);
	// don't underflow.
	l.applyingEntsSize -= min(size, l.applyingEntsSize)
	l.applyingEntsPaused = l.applyingEntsSize >= l.maxApplyingEntsSize
}

// snapshot returns the latest snapshot: the unstable one if any, otherwise
// the storage's.
func (l *raftLog) snapshot() (*raftpb.Snapshot, error) {
	if l.unstable.snapshot != nil {
		return l.unstable.snapshot, nil
	}
	return l.storage.Snapshot()
}

// firstIndex returns the index of the first entry still in the log.
func (l *raftLog) firstIndex() uint64 {
	if i, ok := l.unstable.maybeFirstIndex(); ok {
		return i
	}
	i, err := l.storage.FirstIndex()
	if err != nil {
		panic(fmt.Sprintf("raft: storage failed to report its first index: %v", err))
	}
	return i
}

// lastIndex returns the index of the last entry in the log.
func (l *raftLog) lastIndex() uint64 {
	if i, ok := l.unstable.maybeLastIndex(); ok {
		return i
	}
	i, err := l.storage.LastIndex()
	if err != nil {
		panic(fmt.Sprintf("raft: storage failed to report its last index: %v", err))
	}
	return i
}

// lastTerm returns the term of the last entry in the log.
func (l *raftLog) lastTerm() uint64 {
	_, t := l.lastEntryID()
	return t
}

// lastEntryID returns the index and term of the last entry in the log.
func (l *raftLog) lastEntryID() (index, term uint64) {
	index = l.lastIndex()
	term, err := l.term(index)
	if err != nil {
		panic(fmt.Sprintf("raft: term of the last index %d is unknown: %v", index, err))
	}
	return index, term
}

// commitTo raises the commit index to tocommit; it never lowers it. The
// caller must ensure tocommit <= lastIndex() (clamping what peers send):
// committing entries we do not have is a bug and panics.
func (l *raftLog) commitTo(tocommit uint64) {
	if tocommit <= l.committed {
		return
	}
	if last := l.lastIndex(); tocommit > last {
		panic(fmt.Sprintf("raft: commit index %d is beyond the last index %d", tocommit, last))
	}
	l.committed = tocommit
}

// stableTo records that the entries up to i (the entry at i having term t)
// are durable in storage.
func (l *raftLog) stableTo(i, t uint64) { l.unstable.stableTo(i, t) }

// stableSnapTo records that the snapshot at index i is durable in storage.
func (l *raftLog) stableSnapTo(i uint64) { l.unstable.stableSnapTo(i) }

// term returns the term of the entry at index i. It works for i in
// [firstIndex()-1, lastIndex()]; the term at firstIndex()-1 comes from the
// snapshot (or storage's compaction point). It returns ErrCompacted below
// that range and ErrUnavailable above it.
func (l *raftLog) term(i uint64) (uint64, error) {
	// The unstable part is checked first: recent entries are the hot path,
	// and it needs no storage call.
	if t, ok := l.unstable.maybeTerm(i); ok {
		return t, nil
	}
	if s := l.unstable.snapshot; s != nil {
		// The log restarts at the unstable snapshot: whatever storage
		// still holds below it is superseded.
		if i < s.Metadata.Index {
			return 0, ErrCompacted
		}
		return 0, ErrUnavailable
	}
	if len(l.unstable.entries) > 0 && i >= l.unstable.offset {
		return 0, ErrUnavailable
	}
	// Storage decides the rest against its own bounds. Stale entries it may
	// still hold at or after unstable.offset are not reachable here: either
	// unstable entries exist and we returned above, or there are none and
	// storage's last index is the log's.
	return l.storage.Term(i)
}

// zeroTermOnOutOfBounds returns t, or 0 if err says the index is out of
// the log's bounds. Any other error is a storage failure and panics.
func (l *raftLog) zeroTermOnOutOfBounds(t uint64, err error) uint64 {
	if err == nil {
		return t
	}
	if errors.Is(err, ErrCompacted) || errors.Is(err, ErrUnavailable) {
		return 0
	}
	panic(fmt.Sprintf("raft: unexpected error looking up a term: %v", err))
}

// matchTerm reports whether the entry at index i exists and has the given
// term.
func (l *raftLog) matchTerm(i, term uint64) bool {
	t, err := l.term(i)
	return err == nil && t == term
}

// isUpToDate reports whether a log ending at (lasti, term) is at least as
// up-to-date as ours: a later last term wins, and with equal last terms the
// longer log wins (§5.4.1 of the Raft paper). Votes are only granted to such
// candidates, which guarantees a new leader holds every committed entry.
func (l *raftLog) isUpToDate(lasti, term uint64) bool {
	ourIndex, ourTerm := l.lastEntryID()
	return term > ourTerm || (term == ourTerm && lasti >= ourIndex)
}

// maybeCommit advances the commit index to maxIndex, the highest index
// stored on a quorum, if the entry there has the given term (the leader's
// current term). A leader may only commit entries of earlier terms
// indirectly, by committing one of its own term after them (§5.4.2 of the
// Raft paper): an old-term entry on a quorum can still be overwritten.
func (l *raftLog) maybeCommit(maxIndex, term uint64) bool {
	if maxIndex <= l.committed {
		return false
	}
	if t, err := l.term(maxIndex); err != nil || (t != term && !mutCommitCountsOldTerm()) {
		return false
	}
	l.commitTo(maxIndex)
	return true
}

// entries returns the entries from index i to the end of the log, limited
// to maxSize bytes of encoding (but at least one entry).
func (l *raftLog) entries(i uint64, maxSize entryEncodingSize) ([]*raftpb.Entry, error) {
	last := l.lastIndex()
	if i > last {
		return nil, nil
	}
	return l.slice(i, last+1, maxSize)
}

// allEntries returns every entry in the log. It is meant for tests.
func (l *raftLog) allEntries() []*raftpb.Entry {
	for {
		ents, err := l.entries(l.firstIndex(), noSizeLimit)
		if err == nil {
			return ents
		}
		// Storage may be compacted concurrently between reading the
		// first index and the entries; try again from the new start.
		if !errors.Is(err, ErrCompacted) {
			panic(fmt.Sprintf("raft: reading all entries: %v", err))
		}
	}
}

// mustCheckOutOfBounds returns an error unless firstIndex() <= lo <= hi <=
// lastIndex()+1: ErrCompacted if lo is before the first index, ErrUnavailable
// if hi is past the end.
func (l *raftLog) mustCheckOutOfBounds(lo, hi uint64) error {
	if lo > hi {
		return fmt.Errorf("raft: invalid slice [%d, %d)", lo, hi)
	}
	if lo < l.firstIndex() {
		return ErrCompacted
	}
	if last := l.lastIndex(); hi > last+1 {
		return fmt.Errorf("%w: slice [%d, %d) past last index %d", ErrUnavailable, lo, hi, last)
	}
	return nil
}

// slice returns the entries in [lo, hi), limited to maxSize bytes of
// encoding (but at least one entry if the range is not empty). The result
// may alias storage and unstable memory and must not be modified.
func (l *raftLog) slice(lo, hi uint64, maxSize entryEncodingSize) ([]*raftpb.Entry, error) {
	if err := l.mustCheckOutOfBounds(lo, hi); err != nil {
		return nil, err
	}
	if lo == hi {
		return nil, nil
	}
	if lo >= l.unstable.offset {
		return limitSize(l.unstable.slice(lo, hi), maxSize), nil
	}

	cut := min(hi, l.unstable.offset)
	ents, err := l.storage.Entries(lo, cut, uint64(maxSize))
	switch {
	case errors.Is(err, ErrCompacted):
		return nil, err
	case errors.Is(err, ErrUnavailable):
		// The range was checked against the log's bounds: storage must
		// hold everything below unstable.offset.
		panic(fmt.Sprintf("raft: storage is missing entries [%d, %d): %v", lo, cut, err))
	case err != nil:
		return nil, err
	}
	if n := uint64(len(ents)); n == 0 || n > cut-lo {
		panic(fmt.Sprintf("raft: storage returned %d entries for [%d, %d)", n, lo, cut))
	}
	if uint64(len(ents)) < cut-lo || hi == cut {
		// Either the size limit was hit, or nothing is unstable.
		return ents, nil
	}

	size := entsSize(ents)
	if size >= maxSize {
		return ents, nil
	}
	unstable := l.unstable.slice(cut, hi)
	unstable = unstable[:prefixWithin(unstable, maxSize-size)]
	if len(unstable) == 0 {
		return ents, nil
	}
	// Build a new slice: appending to ents could write into storage's
	// memory.
	res := make([]*raftpb.Entry, 0, len(ents)+len(unstable))
	res = append(res, ents...)
	return append(res, unstable...), nil
}

// scan calls v with the entries in [lo, hi), in order, in pages of at most
// pageSize bytes of encoding (a page has at least one entry). It stops at
// the first error, from the log or from v, and returns it.
func (l *raftLog) scan(lo, hi uint64, pageSize entryEncodingSize, v func([]*raftpb.Entry) error) error {
	for lo < hi {
		ents, err := l.slice(lo, hi, pageSize)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			panic(fmt.Sprintf("raft: empty page reading [%d, %d)", lo, hi))
		}
		if err := v(ents); err != nil {
			return err
		}
		lo += uint64(len(ents))
	}
	return nil
}

// restore resets the log to the snapshot s: everything is replaced by the
// snapshot, which becomes unstable until written, and the commit index moves
// to its index. The caller checks that s is newer than the commit index
// (older snapshots are ignored, since the log already has their content);
// anything else is a bug and panics.
func (l *raftLog) restore(s *raftpb.Snapshot) {
	if s.GetMetadata() == nil {
		panic("raft: restoring a snapshot without metadata")
	}
	if s.Metadata.Index < l.committed {
		panic(fmt.Sprintf("raft: restoring snapshot at index %d would move the commit index back from %d",
			s.Metadata.Index, l.committed))
	}
	l.logger.Info("restoring log from snapshot",
		zap.Uint64("index", s.Metadata.Index), zap.Uint64("term", s.Metadata.Term),
		zap.Uint64("committed", l.committed))
	l.committed = s.Metadata.Index
	l.unstable.restore(s)
}
