package main

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// logWrite is one atomic change to the durable raft state: what a Ready
// asks to persist. Each part is optional. The snapshot, if any, is applied
// first (it replaces the whole log), then the entries, then the hard state.
type logWrite struct {
	snap *raftpb.Snapshot
	ents []*raftpb.Entry
	hs   *raftpb.HardState
	sync bool
}

// saveReady persists the snapshot, entries and hard state of a Ready in
// one batch, synced if raft says it must be (or if it carries a snapshot).
func (s *diskStorage) saveReady(rd *raft.Ready) error {
	return s.write(logWrite{
		snap: rd.Snapshot,
		ents: rd.Entries,
		hs:   rd.HardState,
		sync: rd.MustSync || rd.Snapshot != nil,
	})
}

// saveAppends persists what a group of MsgStorageAppend messages carries
// (asynchronous storage writes), in their order, as one pebble batch when
// it can: the entries as one run, a later message's entries replacing the
// earlier ones' from their first index on, and the last hard state. One
// commit instead of one per message saves each its trip through pebble's
// commit pipeline. A group with a snapshot is written message by message.
// The last write is synced if sync is set.
func (s *diskStorage) saveAppends(msgs []*raftpb.Message, sync bool) error {
	p, err := s.saveAppendsNoWait(msgs, sync)
	if err != nil {
		return err
	}
	return p.wait()
}

// saveAppendsNoWait is saveAppends without the wait for the sync (see
// writeNoWait); a group with a snapshot is written whole, sync included.
func (s *diskStorage) saveAppendsNoWait(msgs []*raftpb.Message, sync bool) (pendingSync, error) {
	var w logWrite
	var lastHS *raftpb.Message // the last message with a hard state
	for _, m := range msgs {
		if m.Snapshot != nil {
			return pendingSync{}, s.saveAppendsOneByOne(msgs, sync)
		}
		if len(m.Entries) > 0 {
			first := m.Entries[0].Index
			if len(w.ents) > 0 && first <= w.ents[len(w.ents)-1].Index {
				// Keep what comes before the overwrite (nothing if the
				// overwrite starts before the group's first entry: the
				// write then truncates the stored log as usual).
				keep := 0
				for keep < len(w.ents) && w.ents[keep].Index < first {
					keep++
				}
				// Capped, so that append copies rather than writing into
				// the earlier message's array.
				w.ents = w.ents[:keep:keep]
			}
			if len(w.ents) == 0 {
				// Reused as is until a second message adds to it.
				w.ents = m.Entries[:len(m.Entries):len(m.Entries)]
			} else {
				w.ents = append(w.ents, m.Entries...)
			}
		}
		if m.Term != 0 {
			lastHS = m
		}
	}
	if lastHS != nil {
		w.hs = hardStateOf(lastHS)
	}
	w.sync = sync
	return s.writeNoWait(w)
}

func (s *diskStorage) saveAppendsOneByOne(msgs []*raftpb.Message, sync bool) error {
	for i, m := range msgs {
		w := logWrite{snap: m.Snapshot, ents: m.Entries, hs: hardStateOf(m), sync: sync && i == len(msgs)-1}
		if err := s.write(w); err != nil {
			return err
		}
	}
	return nil
}

// hardStateOf returns the hard state a MsgStorageAppend carries in Term,
// Vote and Commit, or nil if it carries none (a zero Term).
func hardStateOf(m *raftpb.Message) *raftpb.HardState {
	if m.Term == 0 {
		return nil
	}
	return &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
}

// Append adds entries to the log, replacing the log from the first
// appended index on; see storagetest.Writable for the exact contract.
func (s *diskStorage) Append(ents []*raftpb.Entry) error {
	return s.write(logWrite{ents: ents, sync: true})
}

// SetHardState persists st.
func (s *diskStorage) SetHardState(st *raftpb.HardState) error {
	if st == nil {
		return errors.New("SetHardState with nil hard state")
	}
	return s.write(logWrite{hs: st, sync: true})
}

// ApplySnapshot replaces the whole log by snap. It returns
// raft.ErrSnapOutOfDate unless snap is newer than the current snapshot.
func (s *diskStorage) ApplySnapshot(snap *raftpb.Snapshot) error {
	if snap == nil {
		return errors.New("ApplySnapshot with nil snapshot")
	}
	return s.write(logWrite{snap: snap, sync: true})
}

// checkEntries reports whether ents is a well-formed run: no nil entry,
// consecutive indexes starting after 0, terms that never go down.
func checkEntries(ents []*raftpb.Entry) error {
	for i, e := range ents {
		switch {
		case e == nil:
			return fmt.Errorf("entry %d of %d is nil", i, len(ents))
		case i == 0 && e.Index == 0:
			return errors.New("entry with index 0")
		case i > 0 && e.Index != ents[i-1].Index+1:
			return fmt.Errorf("entry %d follows entry %d", e.Index, ents[i-1].Index)
		case i > 0 && e.Term < ents[i-1].Term:
			return fmt.Errorf("entry %d has term %d after term %d", e.Index, e.Term, ents[i-1].Term)
		}
	}
	return nil
}

// write stages w in one pebble batch, commits it and waits for its sync.
// A failed write changes nothing, on disk or in the caches.
func (s *diskStorage) write(w logWrite) error {
	p, err := s.writeNoWait(w)
	if err != nil {
		return err
	}
	return p.wait()
}

// pendingSync is a committed write whose WAL sync may still be under way.
// The zero value is a write that is already as durable as it will be.
type pendingSync struct{ b *pebble.Batch }

// wait returns once the write is durable, or with the sync's error. It
// must be called exactly once for every pendingSync writeNoWait returns.
func (p pendingSync) wait() error {
	if p.b == nil {
		return nil
	}
	err := p.b.SyncWait()
	_ = p.b.Close()
	return err
}

// writeNoWait is write without the wait for the sync: it returns once w is
// in pebble's memtable and readable, with its WAL record queued and, if w
// is synced, its sync requested. The caller waits for the sync with the
// pendingSync before it promises anyone that w is durable. Writes queued
// this way reach the disk in their order (pebble's WAL is one ordered
// log), so a later write being durable implies the earlier ones are: a
// write that needs no sync of its own is durable once the next synced one
// is. A write that installs a snapshot is done whole, sync included.
//
// The cache (lastIndex, the tail) moves when the write is committed, before
// its sync: raft asks storage only for entries it holds stable, which it
// learns after the sync, and what it holds unstable in memory it reads
// from there first.
func (s *diskStorage) writeNoWait(w logWrite) (_ pendingSync, err error) {
	if f := s.opts.failWrite; f != nil {
		if err := f(); err != nil {
			return pendingSync{}, err
		}
	}
	if w.snap != nil {
		// Lock order: snapMu before writeMu (see CreateSnapshot).
		s.snapMu.Lock()
		defer s.snapMu.Unlock()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Only writers change the cached fields, and they hold writeMu, so
	// reading them here without mu is safe.
	last := s.lastIndex
	compact := s.compactIndex
	if w.snap != nil {
		md := w.snap.GetMetadata()
		if md == nil {
			return pendingSync{}, errors.New("snapshot without metadata")
		}
		if cur := s.snapshot.Metadata.Index; md.Index <= cur {
			return pendingSync{}, fmt.Errorf("%w: applying snapshot at index %d, have %d", raft.ErrSnapOutOfDate, md.Index, cur)
		}
		last, compact = md.Index, md.Index
	}
	if err := checkEntries(w.ents); err != nil {
		return pendingSync{}, fmt.Errorf("append: %w", err)
	}
	ents := w.ents
	// Entries at or before the compaction point are already covered.
	for len(ents) > 0 && ents[0].Index <= compact {
		ents = ents[1:]
	}
	if len(ents) > 0 && ents[0].Index > last+1 {
		return pendingSync{}, fmt.Errorf("%w: appending at index %d, last index is %d", raft.ErrEntryGap, ents[0].Index, last)
	}
	truncates := len(ents) > 0 && ents[0].Index <= last
	if w.snap == nil && len(ents) == 0 && w.hs == nil {
		return pendingSync{}, nil
	}

	// A snapshot's data goes to its file first: the batch must not name a
	// file that is not on disk.
	var sf *snapFile
	if w.snap != nil {
		if len(w.snap.Data) > 0 {
			md := w.snap.Metadata
			f, err := s.writeSnapFile(md.Term, md.Index, w.snap.Data)
			if err != nil {
				return pendingSync{}, err
			}
			sf = &f
		}
		defer func() { s.endSnapFile(sf, err == nil) }()
	}

	b := s.db.NewBatch()
	if err := s.stage(b, w.snap, sf, ents, w.hs, truncates); err != nil {
		_ = b.Close()
		return pendingSync{}, err
	}
	// A write that changes entries a reader may ask for (a snapshot or a
	// truncation) holds mu across the commit; a pure append becomes
	// visible only when the cache moves lastIndex, so it need not.
	replaces := w.snap != nil || truncates
	if replaces {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	p, err := s.commit(b, w.sync && !s.opts.noSync)
	if err != nil {
		return pendingSync{}, err
	}
	if w.snap != nil {
		// Done whole: once this returns, endSnapFile (deferred) removes
		// the previous snapshot's file, so the record that names the new
		// one must be durable first.
		if err := p.wait(); err != nil {
			return pendingSync{}, err
		}
		p = pendingSync{}
	}
	if !replaces {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	s.applyWrite(w.snap, ents, w.hs)
	return p, nil
}

// commit commits b, which it takes over: a synced commit returns once the
// batch is applied, with its sync pending; any other is done and closed.
func (s *diskStorage) commit(b *pebble.Batch, sync bool) (pendingSync, error) {
	if !sync {
		err := b.Commit(pebble.NoSync)
		_ = b.Close()
		return pendingSync{}, err
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		_ = b.Close()
		return pendingSync{}, err
	}
	return pendingSync{b: b}, nil
}

// stage adds the records of a write to b. sf, if not nil, holds snap's
// data, which the snapshot record then leaves out.
func (s *diskStorage) stage(b *pebble.Batch, snap *raftpb.Snapshot, sf *snapFile, ents []*raftpb.Entry, hs *raftpb.HardState, truncates bool) error {
	var buf []byte
	var err error
	set := func(key []byte, m proto.Message) error {
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
		if err != nil {
			return err
		}
		return b.Set(key, buf, nil) // Set copies buf into the batch
	}
	if snap != nil {
		md := snap.Metadata
		if err := stageSnapshotRecords(b, snap, sf); err != nil {
			return err
		}
		if err := set(keyCompacted, &raftpb.Entry{Index: md.Index, Term: md.Term}); err != nil {
			return err
		}
		if err := b.DeleteRange(prefixLog, logKeyEnd(), nil); err != nil {
			return err
		}
	}
	if truncates {
		if err := b.DeleteRange(logKey(ents[0].Index), logKeyEnd(), nil); err != nil {
			return err
		}
	}
	for _, e := range ents {
		if err := set(logKey(e.Index), e); err != nil {
			return err
		}
	}
	if hs != nil {
		if err := set(keyHardState, hs); err != nil {
			return err
		}
	}
	return nil
}

// applyWrite updates the caches after a committed write. s.mu is held.
func (s *diskStorage) applyWrite(snap *raftpb.Snapshot, ents []*raftpb.Entry, hs *raftpb.HardState) {
	if snap != nil {
		s.snapshot = snap
		if snap.Metadata.ConfState == nil {
			s.snapshot = &raftpb.Snapshot{Data: snap.Data, Metadata: &raftpb.SnapshotMetadata{
				Index: snap.Metadata.Index, Term: snap.Metadata.Term, ConfState: &raftpb.ConfState{},
			}}
		}
		s.compactIndex, s.compactTerm = snap.Metadata.Index, snap.Metadata.Term
		s.lastIndex = snap.Metadata.Index
		s.tail, s.tailBytes = nil, 0
	}
	if len(ents) > 0 {
		if first := ents[0].Index; first <= s.lastIndex {
			// Truncation: keep the cached entries before first in a fresh
			// array, since readers may hold slices of the old one.
			keep := 0
			if tf := s.tailFirst(); first > tf {
				keep = int(first - tf)
			}
			tail := make([]*raftpb.Entry, keep, keep+len(ents))
			copy(tail, s.tail)
			s.tail = tail
			s.lastIndex = first - 1
			s.tailBytes = 0
			for _, e := range s.tail {
				s.tailBytes += e.EncodedSize()
			}
		}
		// Appending past the end writes only array slots no reader can
		// see: every returned slice is capped at its length.
		s.tail = append(s.tail, ents...)
		for _, e := range ents {
			s.tailBytes += e.EncodedSize()
		}
		s.lastIndex = ents[len(ents)-1].Index
		s.trimTail()
	}
	if hs != nil {
		s.hardState = &raftpb.HardState{Term: hs.Term, Vote: hs.Vote, Commit: hs.Commit}
	}
}

// CreateSnapshot records a snapshot of the state machine at index i (which
// the caller has applied) with configuration cs (nil: the current
// snapshot's) and state data. It does not compact; see Compact.
//
// It may run concurrently with the node loop's writes: it holds writeMu
// only to check i against the log, not while it writes and syncs the
// snapshot record, which is large. snapMu keeps it from racing with a
// write that installs a snapshot received from the leader, so a newer
// snapshot on disk is never overwritten by an older one.
func (s *diskStorage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (*raftpb.Snapshot, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	term, cur, err := s.checkSnapshotIndex(i)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = cur.Metadata.ConfState
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{Index: i, Term: term, ConfState: cs}}
	var sf *snapFile
	if len(data) > 0 {
		f, err := s.writeSnapFile(term, i, data)
		if err != nil {
			return nil, err
		}
		sf = &f
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err = stageSnapshotRecords(b, snap, sf); err == nil {
		// Synced, because the previous snapshot's file is removed
		// next: a crash that lost this record would leave the old
		// record naming a file that is gone. (The compaction that
		// follows needs no sync of its own: pebble's log is
		// ordered, so it never survives a crash this record does
		// not.)
		opt := pebble.Sync
		if s.opts.noSync {
			opt = pebble.NoSync
		}
		if mutRemoveOldSnapFileFirst {
			s.removeSnapFile(s.snapFile)
		}
		err = b.Commit(opt)
	}
	if err != nil {
		s.endSnapFile(sf, false)
		return nil, err
	}
	s.mu.Lock()
	s.snapshot = snap
	s.mu.Unlock()
	s.endSnapFile(sf, true)
	return snap, nil
}

// endSnapFile ends a change of the snapshot record to one whose data sf
// holds (nil: inline or empty). If the record was written, the file the
// record named before is removed; if not, sf's own file is. snapMu is
// held.
func (s *diskStorage) endSnapFile(sf *snapFile, written bool) {
	name := ""
	if sf != nil {
		name = sf.name
	}
	if !written {
		s.removeSnapFile(name)
		return
	}
	if old := s.snapFile; old != name {
		s.removeSnapFile(old)
	}
	s.snapFile = name
}

// checkSnapshotIndex checks that a snapshot may be created at index i and
// returns the term of i and the current snapshot. snapMu is held, so the
// current snapshot cannot change until the caller releases it; the log
// may, but not in a way that invalidates i (entries up to the applied
// index are committed and never truncated; a compaction past i leaves a
// snapshot at i valid).
func (s *diskStorage) checkSnapshotIndex(i uint64) (term uint64, cur *raftpb.Snapshot, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed {
		return 0, nil, errors.New("creating snapshot: storage closed")
	}
	cur = s.snapshot
	if i <= cur.Metadata.Index {
		return 0, nil, fmt.Errorf("%w: creating snapshot at index %d, have %d", raft.ErrSnapOutOfDate, i, cur.Metadata.Index)
	}
	if i < s.compactIndex {
		return 0, nil, fmt.Errorf("%w: creating snapshot at index %d, log compacted to %d", raft.ErrCompacted, i, s.compactIndex)
	}
	if i > s.lastIndex {
		return 0, nil, fmt.Errorf("creating snapshot at index %d beyond last index %d", i, s.lastIndex)
	}
	s.mu.Lock()
	term, err = s.termLocked(i)
	s.mu.Unlock()
	return term, cur, err
}

// Compact discards the entries up to and including i, keeping the term of
// i. It returns raft.ErrCompacted if i is not past the compaction point.
//
// The batch is not synced: losing a compaction in a crash only leaves
// entries that a snapshot already covers, which a restart loads as a
// longer log, and the next synced write (pebble's WAL is ordered) makes
// it durable anyway. Not syncing keeps the fsync out of the time mu is
// held, during which raft cannot read the log.
func (s *diskStorage) Compact(i uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if i <= s.compactIndex {
		return fmt.Errorf("%w: compacting to %d, already compacted to %d", raft.ErrCompacted, i, s.compactIndex)
	}
	if i > s.lastIndex {
		return fmt.Errorf("compacting to %d beyond last index %d", i, s.lastIndex)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	term, err := s.termLocked(i)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	v, err := proto.Marshal(&raftpb.Entry{Index: i, Term: term})
	if err != nil {
		return err
	}
	if err := b.Set(keyCompacted, v, nil); err != nil {
		return err
	}
	if err := b.DeleteRange(logKey(s.compactIndex+1), logKey(i+1), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	s.compactIndex, s.compactTerm = i, term
	if tf := s.tailFirst(); tf <= i {
		for _, e := range s.tail[:i+1-tf] {
			s.tailBytes -= e.EncodedSize()
		}
		s.tail = s.tail[i+1-tf:]
	}
	return nil
}
