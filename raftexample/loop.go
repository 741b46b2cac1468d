package main

import (
	"fmt"
	"time"

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
			if err := s.handleReady(&rd); err != nil {
				err = fmt.Errorf("node loop stopped: %w", err)
				s.logf("%v", err)
				s.failed.Store(&err)
				return
			}
		case <-s.loopStop:
			return
		}
	}
}

// handleReady persists, sends, applies and acknowledges one Ready.
func (s *server) handleReady(rd *raft.Ready) error {
	if rd.SoftState != nil {
		if prev := s.leader.Swap(rd.SoftState.Lead); prev != rd.SoftState.Lead {
			s.metrics.leaderChanges.Inc()
		}
		s.isLeader = rd.SoftState.RaftState == raft.StateLeader
		isLeader := 0.0
		if s.isLeader {
			isLeader = 1
		}
		s.metrics.isLeader.Set(isLeader)
	}
	// A leader that stays leader in an unchanged term and vote may send
	// before its own write is durable (thesis §10.2.1): its appends and
	// heartbeats promise nothing about its own disk, and it counts itself
	// towards commitment only once the write is done (at Advance). The
	// follower's disk write and the leader's then overlap. Everything
	// else waits for the write: a vote or an append acknowledgement must
	// never be sent before what it promises is durable.
	early := s.isLeader && rd.SoftState == nil && len(rd.Messages) > 0 &&
		(rd.HardState == nil || rd.HardState.Term == s.persistedTerm && rd.HardState.Vote == s.persistedVote)
	if early {
		s.trans.send(rd.Messages)
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
	if err := s.storage.saveReady(rd); err != nil {
		return fmt.Errorf("persisting ready: %w", err)
	}
	if hs := rd.HardState; hs != nil {
		s.persistedTerm, s.persistedVote = hs.Term, hs.Vote
	}
	if rd.HardState != nil {
		s.metrics.term.Set(float64(rd.HardState.Term))
		s.metrics.commitIndex.Set(float64(rd.HardState.Commit))
	}
	if rd.Snapshot != nil {
		if err := s.restoreSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	// c: send.
	if !early {
		s.trans.send(rd.Messages)
	}
	// d: apply the rest.
	if err := s.applyTimed(applyLater); err != nil {
		return err
	}
	// e: reads wait for their index to be applied on their own.
	for _, rs := range rd.ReadStates {
		if len(rs.RequestCtx) == 8 {
			s.reads.trigger(decodeReadCtx(rs.RequestCtx), rs.Index)
		}
	}
	s.maybeSnapshot()
	// f.
	s.node.Advance()
	return nil
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
	for _, e := range ents {
		if e.Index <= applied {
			continue
		}
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				break // a new leader's empty entry
			}
			cmd, err := unmarshalCommand(e.Data)
			if err != nil {
				// Every node skips the same entry, so the replicas agree.
				s.logf("skipping entry %d: %v", e.Index, err)
				break
			}
			existed := s.kv.apply(cmd)
			s.writes.trigger(cmd.reqID, applyResult{index: e.Index, existed: existed})
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

// maybeSnapshot takes a snapshot once snapshotEntries entries have been
// applied since the last one (or a conf change was applied), and compacts the log behind it, keeping
// catchUpEntries entries so that a follower slightly behind catches up
// from the log instead of a snapshot.
func (s *server) maybeSnapshot() {
	applied := s.applied.get()
	if applied-s.snapIndex < s.cfg.snapshotEntries && !(s.snapshotNow && applied > s.snapIndex) {
		return
	}
	s.snapshotNow = false
	data := s.kv.snapshot(s.members.state())
	if _, err := s.storage.CreateSnapshot(applied, s.confState, data); err != nil {
		s.logf("creating snapshot at %d: %v", applied, err)
		return
	}
	s.snapIndex = applied
	s.metrics.snapshots.WithLabelValues("created").Inc()
	if applied <= s.cfg.catchUpEntries {
		return
	}
	compact := applied - s.cfg.catchUpEntries
	if first, _ := s.storage.FirstIndex(); compact < first {
		return
	}
	if err := s.storage.Compact(compact); err != nil {
		s.logf("compacting the log to %d: %v", compact, err)
	}
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
