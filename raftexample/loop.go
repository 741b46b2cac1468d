package main

import (
	"errors"
	"fmt"
	"math/bits"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// run is the node loop: it ticks raft and handles every Ready in the
// order the library's documentation prescribes. It stops when loopStop is
// closed, or on a storage error, after which the node serves nothing (a
// node that cannot persist must not vote or acknowledge).
func (s *server) run() {
	defer close(s.loopDone)
	ticker := time.NewTicker(s.cfg.tick)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.node.Tick()
		case rd := <-s.node.Ready():
			handle := s.handleReady
			if s.cfg.asyncStorageWrites {
				handle = s.handleReadyAsync
			}
			if err := handle(&rd); err != nil {
				s.fail(err)
				return
			}
		case req := <-s.restoreC:
			req.done <- s.restoreSnapshot(req.snap)
		case <-s.fatal:
			return
		case res := <-s.snapDone:
			s.finishSnapshot(res)
			// A snapshot that came due while this one was being written
			// (a conf change, or a long write) starts now, even on an
			// idle node.
			s.maybeSnapshot()
		case <-s.loopStop:
			return
		}
	}
}

// handleReady persists, sends, applies and acknowledges one Ready.
func (s *server) handleReady(rd *raft.Ready) error {
	start := time.Now()
	s.batcher.beginWrite()
	s.noteSoftState(rd.SoftState)
	// A leader that stays leader in an unchanged term and vote may send
	// before its own write is durable (thesis §10.2.1): its appends and
	// heartbeats promise nothing about its own disk, and it counts itself
	// towards commitment only once the write is done (at Advance). The
	// follower's disk write and the leader's then overlap. Everything
	// else waits for the write: a vote or an append acknowledgement must
	// never be sent before what it promises is durable.
	early := s.isLeader && rd.SoftState == nil && len(rd.Messages) > 0 &&
		(rd.HardState == nil || rd.HardState.Term == s.persistedTerm && rd.HardState.Vote == s.persistedVote)
	msgs := rd.Messages
	if early {
		s.trans.send(msgs)
	} else {
		// A follower's forwarded proposals and read requests promise
		// nothing about its disk either; sending them now saves the
		// client a local fsync on its way to the leader.
		var now []*raftpb.Message
		now, msgs = splitForwarded(msgs)
		s.trans.send(now)
	}
	// Committed entries that come before this Ready's new entries were
	// made durable here by an earlier Ready (and are durable on a quorum,
	// or they would not be committed), so they can be applied, and their
	// clients answered, without waiting for this Ready's fsync. Only the
	// committed entries among this Ready's own Entries must wait (the
	// library's "persist first, then apply").
	applyNow, applyLater := splitCommitted(rd)
	if err := s.applyTimed(applyNow); err != nil {
		return err
	}
	// a, b: the snapshot, entries and hard state, in one batch, synced
	// when raft says so.
	writeStart := time.Now()
	if err := s.storage.saveReady(rd); err != nil {
		return fmt.Errorf("persisting ready: %w", err)
	}
	s.metrics.diskWriteLatency.Observe(time.Since(writeStart).Seconds())
	if hs := rd.HardState; hs != nil {
		s.persistedTerm, s.persistedVote = hs.Term, hs.Vote
		s.metrics.term.Set(float64(hs.Term))
		s.metrics.commitIndex.Set(float64(hs.Commit))
	}
	if rd.Snapshot != nil {
		if err := s.restoreSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	// c: send.
	if !early {
		s.trans.send(msgs)
	}
	// d: apply the rest.
	if err := s.applyTimed(applyLater); err != nil {
		return err
	}
	// e: reads wait for their index to be applied on their own.
	s.triggerReads(rd.ReadStates)
	s.maybeSnapshot()
	// Writes that came in meanwhile go into the next Ready, as one entry.
	s.batcher.flush()
	// f.
	s.node.Advance()
	s.batcher.readyHandled()
	s.metrics.readyLatency.Observe(time.Since(start).Seconds())
	return nil
}

// noteSoftState records a change of leader or role.
func (s *server) noteSoftState(ss *raft.SoftState) {
	if ss == nil {
		return
	}
	if prev := s.leader.Swap(ss.Lead); prev != ss.Lead {
		s.metrics.leaderChanges.Inc()
	}
	s.isLeader = ss.RaftState == raft.StateLeader
	isLeader := 0.0
	if s.isLeader {
		isLeader = 1
	}
	s.metrics.isLeader.Set(isLeader)
}

// triggerReads hands each read index raft answered to the read waiting
// for it, which then waits for that index to be applied.
func (s *server) triggerReads(rss []raft.ReadState) {
	for _, rs := range rss {
		if len(rs.RequestCtx) == 8 {
			s.reads.trigger(decodeReadCtx(rs.RequestCtx), rs.Index)
		}
	}
}

// splitForwarded splits msgs into the proposals and read-index requests
// that a follower forwards to its leader, and the rest, keeping the order
// within each. It allocates only when msgs holds both kinds.
func splitForwarded(msgs []*raftpb.Message) (fwd, rest []*raftpb.Message) {
	isFwd := func(m *raftpb.Message) bool {
		return m.Type == raftpb.MsgProp || m.Type == raftpb.MsgReadIndex
	}
	n := 0
	for _, m := range msgs {
		if isFwd(m) {
			n++
		}
	}
	switch n {
	case 0:
		return nil, msgs
	case len(msgs):
		return msgs, nil
	}
	fwd = make([]*raftpb.Message, 0, n)
	rest = make([]*raftpb.Message, 0, len(msgs)-n)
	for _, m := range msgs {
		if isFwd(m) {
			fwd = append(fwd, m)
		} else {
			rest = append(rest, m)
		}
	}
	return fwd, rest
}

// splitCommitted splits rd's committed entries into those that may be
// applied before rd is persisted (already in local storage) and those that
// must wait for it. With a snapshot everything waits: the snapshot is
// restored first.
func splitCommitted(rd *raft.Ready) (now, later []*raftpb.Entry) {
	ents := rd.CommittedEntries
	if rd.Snapshot != nil {
		return nil, ents
	}
	if len(rd.Entries) == 0 {
		return ents, nil
	}
	first := rd.Entries[0].Index
	i := 0
	for i < len(ents) && ents[i].Index < first {
		i++
	}
	return ents[:i], ents[i:]
}

// applyTimed applies ents and records how long it took.
func (s *server) applyTimed(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	start := time.Now()
	if err := s.apply(ents); err != nil {
		return err
	}
	s.metrics.applyLatency.Observe(time.Since(start).Seconds())
	return nil
}

// restoreSnapshot replaces the state machine by a snapshot received from
// the leader (already persisted by saveReady).
func (s *server) restoreSnapshot(snap *raftpb.Snapshot) error {
	ms, err := s.kv.restore(snap.Data)
	if err != nil {
		return fmt.Errorf("restoring snapshot at index %d: %w", snap.Metadata.Index, err)
	}
	old := s.members.snapshot()
	s.members.replace(ms)
	if ms.removed[s.cfg.id] {
		s.markRemoved()
	}
	addrs := ms.addrs
	for id := range old {
		if _, ok := addrs[id]; !ok && id != s.cfg.id {
			s.trans.removePeer(id)
		}
	}
	for id, addr := range addrs {
		if id != s.cfg.id {
			s.trans.addPeer(id, addr)
		}
	}
	s.confState = snap.Metadata.ConfState
	s.snapIndex = snap.Metadata.Index
	s.applied.set(snap.Metadata.Index)
	s.metrics.appliedIndex.Set(float64(snap.Metadata.Index))
	s.metrics.snapshots.WithLabelValues("applied").Inc()
	s.logf("restored snapshot at index %d (term %d)", snap.Metadata.Index, snap.Metadata.Term)
	return nil
}

// apply applies committed entries in order and wakes their proposers.
func (s *server) apply(ents []*raftpb.Entry) error {
	applied := s.applied.get()
	now := monoNow() // when these entries were applied, for the requests waiting on them
	for _, e := range ents {
		if e.Index <= applied {
			continue
		}
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				break // a new leader's empty entry
			}
			cmds, err := decodeEntry(e.Data)
			if err != nil {
				// Every node skips the same entry, so the replicas agree.
				s.logf("skipping entry %d: %v", e.Index, err)
				break
			}
			for _, cmd := range cmds {
				existed := s.kv.apply(cmd)
				s.writes.trigger(cmd.reqID, applyResult{index: e.Index, existed: existed, appliedAt: now})
			}
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if err := s.applyConfChange(e); err != nil {
				return err
			}
		}
		applied = e.Index
		s.applied.set(applied)
	}
	s.metrics.committed.Add(float64(len(ents)))
	s.metrics.appliedIndex.Set(float64(applied))
	return nil
}

// applyConfChange applies a membership change to raft and to the member
// list, and starts or stops talking to the peer.
func (s *server) applyConfChange(e *raftpb.Entry) error {
	cci, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
	if err != nil {
		s.logf("skipping conf change entry %d: %v", e.Index, err)
		return nil
	}
	var reqID uint64
	if v1, ok := cci.AsV1(); ok {
		reqID = v1.Id
	}
	cs, err := s.node.ApplyConfChange(cci)
	if err != nil {
		// The change does not fit the configuration; raft refused it, and
		// so do we, on every node alike.
		s.logf("conf change at %d refused: %v", e.Index, err)
		s.writes.trigger(reqID, applyResult{index: e.Index, err: err})
		return nil
	}
	s.confState = cs
	// The next snapshot must include this change: a node being added can
	// only restore a snapshot whose configuration lists it, and raft
	// sends it the latest one.
	s.snapshotNow = true
	cc := cci.AsV2()
	for _, ch := range cc.Changes {
		switch ch.Type {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode, raftpb.ConfChangeUpdateNode:
			addr := string(cc.Context)
			if addr == "" {
				addr, _ = s.members.addr(ch.NodeId)
			}
			s.members.set(ch.NodeId, addr)
			if ch.NodeId != s.cfg.id && addr != "" {
				s.trans.addPeer(ch.NodeId, addr)
			}
		case raftpb.ConfChangeRemoveNode:
			s.members.remove(ch.NodeId)
			if ch.NodeId == s.cfg.id {
				s.markRemoved()
			} else {
				s.trans.removePeer(ch.NodeId)
			}
		}
	}
	s.writes.trigger(reqID, applyResult{index: e.Index})
	return nil
}

// maybeSnapshot starts a snapshot when one is due: at this node's next
// snapshot point (see nextSnapshotAt), or after a conf change. Only the
// cheap part runs here, in the node loop, between applying and Advance:
// it copies the state machine at the applied index, with the index's term
// and the configuration in force there, so the snapshot's metadata matches
// its data. A background goroutine encodes and persists it and then
// compacts the log behind it (see persistSnapshot); the loop never waits
// for it. One snapshot is in flight at a time; the loop learns it is done
// from snapDone.
func (s *server) maybeSnapshot() {
	if s.snapInFlight {
		return
	}
	applied := s.applied.get()
	if applied <= s.snapIndex {
		return
	}
	if !s.snapshotNow && applied < nextSnapshotAt(s.snapIndex, s.cfg.snapshotEntries, s.snapPhase) {
		return
	}
	s.snapshotNow = false
	// applied is at or after the first index (a restored snapshot sets both)
	// and at or before the last (entries are applied only once stored), so
	// its term is known.
	term, err := s.storage.Term(applied)
	if err != nil {
		s.logf("snapshot at %d: term: %v", applied, err)
		s.snapIndex = applied // retry at the next snapshot point
		return
	}
	job := snapJob{
		index:   applied,
		term:    term,
		cs:      cloneConfState(s.confState),
		data:    s.kv.clone(),
		members: s.members.state(),
	}
	s.snapInFlight = true
	s.snapWG.Add(1)
	go func() {
		defer s.snapWG.Done()
		// snapDone has room for one result and one snapshot is in flight,
		// so this never blocks, even after the loop has stopped.
		s.snapDone <- s.persistSnapshot(job)
	}()
}

// cloneConfState copies cs; nil stays nil (CreateSnapshot then keeps the
// current snapshot's configuration).
func cloneConfState(cs *raftpb.ConfState) *raftpb.ConfState {
	if cs == nil {
		return nil
	}
	return proto.Clone(cs).(*raftpb.ConfState)
}

// snapJob is a copy of the state machine at index, made by the node loop
// for persistSnapshot.
type snapJob struct {
	index, term uint64
	cs          *raftpb.ConfState
	data        map[string][]byte // values shared with the kvStore, never modified
	members     memberState
	err         error // set by persistSnapshot
}

// persistSnapshot runs off the node loop: it encodes job, writes it as the
// latest snapshot (synced), and only then compacts the log behind it,
// keeping catchUpEntries entries so that a follower slightly behind
// catches up from the log instead of a snapshot. A crash at any point
// leaves a consistent data directory: either the old snapshot with the
// whole log after it, or the new one with the log from at most its index
// on.
func (s *server) persistSnapshot(job snapJob) snapJob {
	data := encodeSnapshot(job.data, job.members)
	job.data = nil
	snap, err := s.storage.CreateSnapshot(job.index, job.cs, data)
	if err != nil {
		job.err = fmt.Errorf("creating snapshot at %d: %w", job.index, err)
		return job
	}
	if snap.Metadata.Term != job.term {
		// The term of an applied (committed) entry never changes.
		panic(fmt.Sprintf("snapshot at %d got term %d, the node loop saw %d", job.index, snap.Metadata.Term, job.term))
	}
	if job.index <= s.cfg.catchUpEntries {
		return job
	}
	compact := job.index - s.cfg.catchUpEntries
	// A snapshot received from the leader meanwhile may have compacted
	// the log as far or further; that is not an error (Compact checks).
	if err := s.storage.Compact(compact); err != nil && !errors.Is(err, raft.ErrCompacted) {
		job.err = fmt.Errorf("compacting the log to %d: %w", compact, err)
	}
	return job
}

// finishSnapshot records, in the node loop, the outcome of a snapshot that
// persistSnapshot finished. A failed snapshot is retried at the next
// snapshot point; one overtaken by a snapshot from the leader is dropped.
func (s *server) finishSnapshot(job snapJob) {
	s.snapInFlight = false
	s.snapIndex = max(s.snapIndex, job.index)
	switch {
	case errors.Is(job.err, raft.ErrSnapOutOfDate):
	case job.err != nil:
		s.logf("%v", job.err)
	default:
		s.metrics.snapshots.WithLabelValues("created").Inc()
	}
}

// snapshotPhase returns where in every interval of every entries node id
// takes its snapshots. Nodes that snapshotted at the same indexes would
// all stall at once; spreading the IDs by Fibonacci hashing (multiplying
// by 2^64 divided by the golden ratio) puts any few IDs far apart: for IDs
// 1, 2, 3 the phases are 0.62, 0.24 and 0.85 of the interval.
func snapshotPhase(id, every uint64) uint64 {
	hi, _ := bits.Mul64(id*0x9e3779b97f4a7c15, every)
	return hi
}

// nextSnapshotAt returns the first index after last that is a snapshot
// point of a node with the given phase: an index equal to phase modulo
// every. Since nodes take snapshots at their own points, not every entries
// after their last one, the spread survives restarts and snapshots
// received from the leader.
func nextSnapshotAt(last, every, phase uint64) uint64 {
	p := last - last%every + phase
	if p <= last {
		p += every
	}
	return p
}

// markRemoved records that this node is no longer a member: it learned so
// from the log, a snapshot, or a peer refusing its messages. It then
// refuses clients; its raft node keeps running harmlessly, since the
// members refuse its messages.
func (s *server) markRemoved() {
	if !s.removed.Swap(true) {
		s.logf("this node was removed from the cluster")
	}
}
