package raft

import (
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// stepLeader is the step function of the leader.
func stepLeader(r *raft, m *raftpb.Message) error {
	// Messages that need no progress record.
	switch m.Type {
	case raftpb.MsgBeat:
		r.bcastHeartbeat()
		return nil
	case raftpb.MsgCheckQuorum:
		r.checkQuorumActive()
		return nil
	case raftpb.MsgProp:
		return r.handleProposal(m)
	case raftpb.MsgReadIndex:
		r.handleReadIndex(m)
		return nil
	case raftpb.MsgForgetLeader:
		// A leader has nothing to forget.
		return nil
	}

	pr := r.trk.Progress[m.From]
	if pr == nil {
		r.logger.Debug("no progress available for peer; ignoring message",
			zap.Uint64("from", m.From), zap.Stringer("type", m.Type))
		return nil
	}
	switch m.Type {
	case raftpb.MsgAppResp, raftpb.MsgHeartbeatResp:
		if m.Epoch != pr.Epoch && !mutIgnoreEpoch() {
			// Sent by an earlier incarnation of this node, before it was
			// removed and re-added: it says nothing about the new one.
			r.logger.Info("ignored response from a previous incarnation of peer",
				zap.Uint64("from", m.From), zap.Stringer("type", m.Type),
				zap.Uint64("epoch", m.Epoch), zap.Uint64("want_epoch", pr.Epoch))
			return nil
		}
		if m.Type == raftpb.MsgAppResp {
			r.handleAppendResponse(m, pr)
		} else {
			r.handleHeartbeatResponse(m, pr)
		}
	case raftpb.MsgSnapStatus:
		r.handleSnapStatus(m, pr)
	case raftpb.MsgUnreachable:
		// The transport failed to deliver to the peer; optimistic
		// pipelining would pile up losses, so probe instead.
		if pr.State == progress.StateReplicate {
			pr.BecomeProbe()
		}
		r.logger.Debug("failed to send message to peer", zap.Uint64("to", m.From), zap.Stringer("progress", pr))
	case raftpb.MsgTransferLeader:
		r.handleTransferLeader(m, pr)
	}
	return nil
}

// checkQuorumActive steps down if a quorum was not heard from within the
// last election timeout (thesis §6.2), then starts the next round.
func (r *raft) checkQuorumActive() {
	if !r.trk.QuorumActive() {
		r.logger.Warn("stepped down to follower since quorum is not active")
		r.becomeFollower(r.Term, None)
	}
	r.trk.Visit(func(id uint64, pr *progress.Progress) {
		if id != r.id {
			pr.RecentActive = false
		}
	})
}

// handleProposal appends proposed entries and replicates them.
func (r *raft) handleProposal(m *raftpb.Message) error {
	if len(m.Entries) == 0 {
		r.logger.Warn("dropped proposal without entries", zap.Uint64("from", m.From))
		return ErrProposalDropped
	}
	if r.trk.Progress[r.id] == nil {
		// Removed from the configuration but still leading (without
		// StepDownOnRemoval): refuse new work.
		return ErrProposalDropped
	}
	if r.leadTransferee != None {
		r.logger.Debug("dropped proposal during leadership transfer",
			zap.Uint64("transferee", r.leadTransferee))
		return ErrProposalDropped
	}
	for i, e := range m.Entries {
		if e == nil {
			r.logger.Warn("dropped proposal with a nil entry", zap.Uint64("from", m.From))
			return ErrProposalDropped
		}
		if e.Type != raftpb.EntryConfChange && e.Type != raftpb.EntryConfChangeV2 {
			continue
		}
		cc, err := decodeConfChange(e)
		if err != nil {
			r.logger.Warn("dropped proposal with undecodable conf change", zap.Error(err))
			return ErrProposalDropped
		}
		if reason := r.confChangeRefusal(cc); reason != "" && !r.disableConfChangeValidation {
			// Keep the slot (the caller may track it) but neutralise it.
			r.logger.Info("ignoring conf change", zap.String("reason", reason),
				zap.Uint64("applied", r.raftLog.applied), zap.Uint64("pending", r.pendingConfIndex))
			m.Entries[i] = &raftpb.Entry{Type: raftpb.EntryNormal}
		} else {
			r.pendingConfIndex = r.raftLog.lastIndex() + uint64(i) + 1
		}
	}
	if !r.appendEntry(m.Entries...) {
		return ErrProposalDropped
	}
	r.bcastAppend()
	return nil
}

// confChangeRefusal says why the leader must not append cc now, or "".
func (r *raft) confChangeRefusal(cc raftpb.ConfChangeI) string {
	alreadyPending := r.pendingConfIndex > r.raftLog.applied
	alreadyJoint := len(r.trk.Config.Voters[1]) > 0
	wantsLeaveJoint := len(cc.AsV2().Changes) == 0
	switch {
	case alreadyPending:
		return "possible unapplied conf change"
	case alreadyJoint && !wantsLeaveJoint:
		return "must transition out of joint config first"
	case !alreadyJoint && wantsLeaveJoint:
		return "not in joint state; refusing empty conf change"
	}
	return ""
}

func decodeConfChange(e *raftpb.Entry) (raftpb.ConfChangeI, error) {
	if e.Type == raftpb.EntryConfChange {
		cc := &raftpb.ConfChange{}
		if err := proto.Unmarshal(e.Data, cc); err != nil {
			return nil, err
		}
		return cc, nil
	}
	cc := &raftpb.ConfChangeV2{}
	if err := proto.Unmarshal(e.Data, cc); err != nil {
		return nil, err
	}
	return cc, nil
}

// handleAppendResponse updates a follower's progress from its answer to a
// MsgApp or MsgSnap.
func (r *raft) handleAppendResponse(m *raftpb.Message, pr *progress.Progress) {
	pr.RecentActive = true
	if m.Reject {
		r.handleAppendRejection(m, pr)
		return
	}
	if m.Index > r.raftLog.lastIndex() {
		// A follower cannot have appended entries we never had.
		r.logger.Warn("ignored append response beyond our last index",
			zap.Uint64("from", m.From), zap.Uint64("index", m.Index), zap.Uint64("last_index", r.raftLog.lastIndex()))
		return
	}
	// In StateProbe a response matching what we know still moves the
	// follower to replicate: the probe succeeded.
	if !pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State == progress.StateProbe) {
		return
	}
	switch pr.State {
	case progress.StateProbe:
		pr.BecomeReplicate()
	case progress.StateSnapshot:
		// The follower caught up past the snapshot (or from the snapshot
		// itself): resume, if the log still has what comes next.
		if pr.Match+1 >= r.raftLog.firstIndex() {
			r.logger.Debug("recovered from needing snapshot", zap.Uint64("from", m.From), zap.Stringer("progress", pr))
			pr.BecomeProbe()
			pr.BecomeReplicate()
		}
	case progress.StateReplicate:
		pr.Inflights.FreeLE(m.Index)
	}
	if r.maybeCommit() {
		r.releasePendingReadIndexMessages()
		r.bcastAppend()
	} else if r.id != m.From && pr.CanBumpCommit(r.raftLog.committed) {
		// Nothing new committed, but this follower lags the commit index.
		r.sendAppend(m.From)
	}
	if r.id != m.From {
		// Fill the pipeline while the follower has room.
		for r.maybeSendAppend(m.From, false) {
		}
	}
	if m.From == r.leadTransferee && pr.Match == r.raftLog.lastIndex() {
		r.logger.Info("sent MsgTimeoutNow after the transferee caught up", zap.Uint64("to", m.From))
		r.sendTimeoutNow(m.From)
	}
}

// handleAppendRejection backs off after a log mismatch. The follower's hint
// (RejectHint, LogTerm) names its best guess of the last matching entry;
// looking up that term in our log skips a whole term of mismatching entries
// per round trip instead of one entry (paper §5.3, the optimization at the
// end of the section).
func (r *raft) handleAppendRejection(m *raftpb.Message, pr *progress.Progress) {
	r.logger.Debug("received append rejection",
		zap.Uint64("from", m.From), zap.Uint64("index", m.Index),
		zap.Uint64("hint_index", m.RejectHint), zap.Uint64("hint_term", m.LogTerm))
	nextProbeIdx := m.RejectHint
	if m.LogTerm > 0 {
		nextProbeIdx, _ = r.raftLog.findConflictByTerm(m.RejectHint, m.LogTerm)
	}
	if pr.MaybeDecrTo(m.Index, nextProbeIdx) {
		if pr.State == progress.StateReplicate {
			pr.BecomeProbe()
		}
		r.sendAppend(m.From)
	}
}

func (r *raft) handleHeartbeatResponse(m *raftpb.Message, pr *progress.Progress) {
	pr.RecentActive = true
	pr.MsgAppProbesPaused = false
	// A heartbeat round trip is a cheap chance to resume a stalled probe
	// or to tell a follower a commit index it lacks.
	switch {
	case pr.State == progress.StateReplicate && pr.Inflights.Full():
		// The full window pauses appends, but the transport may have lost
		// every append in it without reporting MsgUnreachable; then no
		// answer would ever free it and the follower would be stuck
		// (paper §5.5: the leader retries indefinitely).
		r.sendWindowProbe(m.From, pr)
	case pr.Match < r.raftLog.lastIndex() || pr.CanBumpCommit(r.raftLog.committed):
		r.sendAppend(m.From)
	}
	r.handleReadIndexAck(m)
}

// sendWindowProbe sends an empty append right after a follower's full
// in-flight window, despite the pause. If the follower has everything up to
// it, the answer frees the window; if appends were lost, it is rejected and
// the leader goes back to probing from Match.
func (r *raft) sendWindowProbe(to uint64, pr *progress.Progress) {
	prevIndex := pr.Next - 1
	prevTerm, err := r.raftLog.term(prevIndex)
	if err != nil {
		// Compacted since it was sent: a probe finds out what the follower
		// needs, a snapshot if it comes to that.
		pr.BecomeProbe()
		r.sendAppend(to)
		return
	}
	commit := r.raftLog.committed
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgApp, Index: prevIndex, LogTerm: prevTerm, Commit: commit, Epoch: pr.Epoch})
	pr.SentCommit(commit)
}

func (r *raft) handleSnapStatus(m *raftpb.Message, pr *progress.Progress) {
	if pr.State != progress.StateSnapshot {
		return
	}
	if m.Reject {
		pr.PendingSnapshot = 0
		r.logger.Debug("snapshot failed", zap.Uint64("to", m.From), zap.Stringer("progress", pr))
	} else {
		r.logger.Debug("snapshot succeeded", zap.Uint64("to", m.From), zap.Stringer("progress", pr))
	}
	// Probe from the snapshot (or from Match after a failure) and wait a
	// heartbeat interval before the next append, so that the follower has
	// time to apply it before a probe tells us whether it did.
	pr.BecomeProbe()
	pr.MsgAppProbesPaused = true
}
