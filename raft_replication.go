package raft

import (
	"errors"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// errBreak stops a log scan early.
var errBreak = errors.New("break")

// appendEntry appends proposals to the leader's log, stamping term and
// index. It fails if the uncommitted size limit would be exceeded.
func (r *raft) appendEntry(es ...*raftpb.Entry) bool {
	li := r.raftLog.lastIndex()
	for i := range es {
		es[i].Term = r.Term
		es[i].Index = li + 1 + uint64(i)
	}
	if !r.increaseUncommittedSize(es) {
		r.logger.Warn("appending new entries would exceed the uncommitted entry size limit; dropping proposal",
			zap.Uint64("uncommitted", uint64(r.uncommittedSize)), zap.Uint64("limit", uint64(r.maxUncommittedSize)))
		return false
	}
	li = r.raftLog.append(es...)
	// The leader acknowledges its own entries once they are durable.
	var epoch uint64
	if pr := r.trk.Progress[r.id]; pr != nil {
		epoch = pr.Epoch
	}
	if n := len(r.msgsAfterAppend); n > 0 {
		// An acknowledgement of earlier entries still waits for the same
		// write as these (the next Ready's); it can speak for them too.
		m := r.msgsAfterAppend[n-1]
		if m.Type == raftpb.MsgAppResp && m.To == r.id && m.Term == r.Term && m.Epoch == epoch && !m.Reject && m.Index < li {
			m.Index = li
			return true
		}
	}
	ack := r.newMessage(r.id, raftpb.MsgAppResp, epoch)
	ack.Index = li
	r.send(ack)
	return true
}

// increaseUncommittedSize admits entries under MaxUncommittedEntriesSize.
// When nothing is outstanding any batch is admitted, so that one entry
// larger than the limit cannot block the node forever. Empty entries (the
// leader's own, and the auto-leave change) are always admitted.
func (r *raft) increaseUncommittedSize(ents []*raftpb.Entry) bool {
	s := payloadsSize(ents)
	if r.uncommittedSize > 0 && s > 0 && r.uncommittedSize+s > r.maxUncommittedSize {
		return false
	}
	r.uncommittedSize += s
	return true
}

// reduceUncommittedSize accounts for applied entries. The count may have
// been reset (new term) since they were appended, hence the floor at zero.
func (r *raft) reduceUncommittedSize(s entryPayloadSize) {
	if s > r.uncommittedSize {
		r.uncommittedSize = 0
	} else {
		r.uncommittedSize -= s
	}
}

// commitOwnEntries commits the entries up to index of a leader alone in
// its configuration, counting its own copy before its write is
// acknowledged. Only RawNode may call it, for the Ready that makes them
// durable (see RawNode.loneCommit, which says why that is safe).
func (r *raft) commitOwnEntries(index uint64) {
	r.trk.Progress[r.id].MaybeUpdate(index)
	if r.maybeCommit() {
		r.releasePendingReadIndexMessages()
	}
	if r.raftLog.committed != index {
		r.panicf("lone leader committed %d, not %d", r.raftLog.committed, index)
	}
}

// maybeCommit advances the commit index to what a quorum has durably
// appended, if that entry is of the current term (paper §5.4.2).
func (r *raft) maybeCommit() bool {
	return r.raftLog.maybeCommit(r.trk.Committed(), r.Term)
}

// sendAppend sends an append (or snapshot) to a follower, even an empty
// one, unless its progress is paused.
func (r *raft) sendAppend(to uint64) {
	r.maybeSendAppend(to, true)
}

// maybeSendAppend sends the entries the follower needs next, within
// MaxSizePerMsg. With sendIfEmpty it also sends an empty append, which
// probes the follower's log or carries the commit index. It reports whether
// a message was sent.
func (r *raft) maybeSendAppend(to uint64, sendIfEmpty bool) bool {
	pr := r.trk.Progress[to]
	if pr.IsPaused() {
		return false
	}
	prevIndex := pr.Next - 1
	prevTerm, err := r.raftLog.term(prevIndex)
	if err != nil {
		// The entries the follower needs are compacted away.
		return r.maybeSendSnapshot(to, pr)
	}
	var ents []*raftpb.Entry
	// In StateReplicate with full inflights nothing more may be sent;
	// IsPaused covered that, but an empty probe-state append carries none.
	if pr.State != progress.StateReplicate || !pr.Inflights.Full() {
		ents, err = r.raftLog.entries(pr.Next, r.maxMsgSize)
	}
	if len(ents) == 0 && !sendIfEmpty {
		return false
	}
	if err != nil {
		return r.maybeSendSnapshot(to, pr)
	}
	if r.joinQueuedAppend(to, pr, prevIndex, ents) {
		return true
	}
	commit := r.raftLog.committed
	m := r.newMessage(to, raftpb.MsgApp, pr.Epoch)
	m.Index, m.LogTerm, m.Entries, m.Commit = prevIndex, prevTerm, ents, commit
	r.send(m)
	pr.SentEntries(len(ents), uint64(payloadsSize(ents)))
	pr.SentCommit(commit)
	return true
}

// queuedApp is a MsgApp still queued in r.msgs with the encoded size of its
// entries.
type queuedApp struct {
	m    *raftpb.Message
	size entryEncodingSize
}

// joinQueuedAppend puts ents, the entries after prevIndex that the follower
// to needs next, into the MsgApp for to that is still queued in r.msgs, if
// there is one ending at prevIndex with room left under MaxSizePerMsg; with
// no entries it only brings that message's commit index up to date. It
// reports whether it did. The follower receives the same entries, in
// fewer messages, and answers once: a leader taking proposals one by one
// between two Readys sends each follower one append per Ready, not one per
// proposal, and the joined message counts once in the inflight window.
//
// Only the last message queued for to is joined, so the order of messages
// to a follower is kept, and only in StateReplicate (a probe is sent
// alone). The message's entries must lie in the unstable log, where the
// joined slice is had without copying.
func (r *raft) joinQueuedAppend(to uint64, pr *progress.Progress, prevIndex uint64, ents []*raftpb.Entry) bool {
	if pr.State != progress.StateReplicate {
		return false
	}
	var m *raftpb.Message
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if r.msgs[i].To == to {
			m = r.msgs[i]
			break
		}
	}
	if m == nil || m.Type != raftpb.MsgApp || m.Term != r.Term || m.Epoch != pr.Epoch || m.Snapshot != nil {
		return false
	}
	n := uint64(len(m.Entries))
	if m.Index+n != prevIndex {
		return false
	}
	if len(ents) > 0 {
		if n > 0 && !r.joinEntries(m, pr, ents) {
			return false
		}
		if n == 0 {
			// An empty append (commit only) becomes an ordinary one.
			m.Entries = ents
			pr.SentEntries(len(ents), uint64(payloadsSize(ents)))
		}
	}
	m.Commit = r.raftLog.committed
	pr.SentCommit(m.Commit)
	return true
}

// joinEntries appends ents to the non-empty entries of the queued MsgApp m,
// as joinQueuedAppend describes, or reports false if they do not fit.
func (r *raft) joinEntries(m *raftpb.Message, pr *progress.Progress, ents []*raftpb.Entry) bool {
	first := m.Entries[0].Index
	if first < r.raftLog.unstable.offset {
		return false
	}
	var q *queuedApp
	for i := len(r.queuedApps) - 1; i >= 0; i-- {
		if r.queuedApps[i].m == m {
			q = &r.queuedApps[i]
			break
		}
	}
	if q == nil {
		if len(r.queuedApps) > len(r.msgs) {
			// Most entries name messages handed out since: restart.
			clear(r.queuedApps)
			r.queuedApps = r.queuedApps[:0]
		}
		fresh := queuedApp{m: m}
		if r.maxMsgSize != noSizeLimit {
			fresh.size = entsSize(m.Entries)
		}
		r.queuedApps = append(r.queuedApps, fresh)
		q = &r.queuedApps[len(r.queuedApps)-1]
	}
	size := q.size
	if r.maxMsgSize != noSizeLimit {
		if size += entsSize(ents); size > r.maxMsgSize {
			return false
		}
	}
	if !pr.SentMoreEntries(len(ents), uint64(payloadsSize(ents))) {
		return false
	}
	last := ents[len(ents)-1].Index
	m.Entries = r.raftLog.unstable.slice(first, last+1)
	q.size = size
	return true
}

// maybeSendSnapshot falls back to MsgSnap for a follower whose next entries
// are compacted. It only sends to a recently active follower: a snapshot is
// expensive and pointless to send into the void.
func (r *raft) maybeSendSnapshot(to uint64, pr *progress.Progress) bool {
	if !pr.RecentActive {
		r.logger.Debug("not sending snapshot to inactive peer", zap.Uint64("to", to))
		return false
	}
	snapshot, err := r.raftLog.snapshot()
	if err != nil {
		if errors.Is(err, ErrSnapshotTemporarilyUnavailable) {
			r.logger.Debug("snapshot temporarily unavailable; not sending", zap.Uint64("to", to))
			return false
		}
		r.panicf("storage failed to produce a snapshot: %v", err)
	}
	if raftpb.IsEmptySnap(snapshot) {
		r.panicf("storage returned an empty snapshot while entries before %d are compacted", r.raftLog.firstIndex())
	}
	sindex, sterm := snapshot.Metadata.Index, snapshot.Metadata.Term
	r.logger.Info("sending snapshot",
		zap.Uint64("to", to), zap.Uint64("snap_index", sindex), zap.Uint64("snap_term", sterm),
		zap.Stringer("progress", pr))
	pr.BecomeSnapshot(sindex)
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgSnap, Snapshot: snapshot, Epoch: pr.Epoch})
	return true
}

// bcastAppend sends appends to every follower that can take one.
func (r *raft) bcastAppend() {
	if _, self := r.trk.Progress[r.id]; self && len(r.trk.Progress) == 1 {
		// A single voter, alone in its configuration: nobody to send to,
		// and no need to walk (and sort) the progress map on every
		// proposal.
		return
	}
	r.trk.Visit(func(id uint64, _ *progress.Progress) {
		if id == r.id {
			return
		}
		r.sendAppend(id)
	})
}

// bcastHeartbeat sends heartbeats, carrying the context of the most recent
// pending read so that the acks confirm it (and every read before it).
func (r *raft) bcastHeartbeat() {
	if r.readOnly.option == ReadOnlyLeaseBased {
		// Safe reads never queue in lease mode; the context carries the
		// lease tick instead (raft_lease.go).
		r.bcastHeartbeatWithCtx(r.leaseCtx())
		return
	}
	r.bcastHeartbeatWithCtx(r.readOnly.lastPendingRequestCtx())
}

func (r *raft) bcastHeartbeatWithCtx(ctx []byte) {
	r.trk.Visit(func(id uint64, _ *progress.Progress) {
		if id == r.id {
			return
		}
		r.sendHeartbeat(id, ctx)
	})
}

// sendHeartbeat tells a follower the commit index, but never more than the
// follower is known to have: it must not commit entries it holds that may
// still be replaced.
func (r *raft) sendHeartbeat(to uint64, ctx []byte) {
	pr := r.trk.Progress[to]
	commit := min(pr.Match, r.raftLog.committed)
	m := r.newMessage(to, raftpb.MsgHeartbeat, pr.Epoch)
	m.Commit, m.Context = commit, ctx
	r.send(m)
	pr.SentCommit(commit)
}
