package raft

import (
	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// stepFollower is the step function of followers.
func stepFollower(r *raft, m *raftpb.Message) error {
	switch m.Type {
	case raftpb.MsgProp:
		return r.forwardProposal(m)
	case raftpb.MsgApp:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleAppendEntries(m)
	case raftpb.MsgHeartbeat:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleHeartbeat(m)
	case raftpb.MsgSnap:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleSnapshot(m)
	case raftpb.MsgTransferLeader:
		if r.lead == None {
			r.logger.Info("no leader; dropping leader transfer", zap.Uint64("term", r.Term))
			return nil
		}
		m.To = r.lead
		r.send(m)
	case raftpb.MsgForgetLeader:
		if r.readOnly.option == ReadOnlyLeaseBased {
			r.logger.Error("ignoring MsgForgetLeader due to ReadOnlyLeaseBased")
			return ErrForgetLeaderLease
		}
		if r.lead != None {
			r.logger.Info("forgetting leader", zap.Uint64("lead", r.lead), zap.Uint64("term", r.Term))
			r.lead = None
		}
	case raftpb.MsgTimeoutNow:
		if m.From != r.lead {
			// Only our leader may hand us its leadership; from anyone
			// else (a non-member, a stale or confused peer) this would
			// depose a healthy leader. A real transfer that arrives
			// while we know no leader is retried by the application.
			r.logger.Info("ignored MsgTimeoutNow from a node that is not our leader",
				zap.Uint64("from", m.From), zap.Uint64("lead", r.lead), zap.Uint64("term", r.Term))
			return nil
		}
		// The leader is handing over leadership: campaign at once, past
		// any lease (thesis §3.10). Not a pre-vote: the transfer already
		// established that we may win.
		r.logger.Info("received MsgTimeoutNow; starting transfer election",
			zap.Uint64("from", m.From), zap.Uint64("term", r.Term))
		r.hup(campaignTransfer)
	case raftpb.MsgReadIndex:
		if r.lead == None {
			r.logger.Info("no leader; dropping read index", zap.Uint64("term", r.Term))
			return nil
		}
		m.To = r.lead
		r.send(m)
	case raftpb.MsgReadIndexResp:
		if len(m.Entries) != 1 {
			r.logger.Warn("ignored malformed MsgReadIndexResp",
				zap.Uint64("from", m.From), zap.Int("entries", len(m.Entries)))
			return nil
		}
		r.readStates = append(r.readStates, ReadState{Index: m.Index, RequestCtx: m.Entries[0].GetData()})
	}
	return nil
}

func (r *raft) forwardProposal(m *raftpb.Message) error {
	if r.lead == None {
		r.logger.Info("no leader; dropping proposal", zap.Uint64("term", r.Term))
		return ErrProposalDropped
	}
	if r.disableProposalForwarding {
		r.logger.Info("not forwarding proposal to leader: forwarding is disabled",
			zap.Uint64("lead", r.lead), zap.Uint64("term", r.Term))
		return ErrProposalDropped
	}
	m.To = r.lead
	r.send(m)
	return nil
}

// validAppend checks what a MsgApp's entries claim about themselves: they
// must follow (Index, LogTerm) contiguously, with terms that never decrease
// and never exceed the sender's term.
func validAppend(m *raftpb.Message) bool {
	prevTerm := m.LogTerm
	for i, e := range m.Entries {
		if e == nil || e.Index != m.Index+1+uint64(i) || e.Term < prevTerm || e.Term > m.Term {
			return false
		}
		prevTerm = e.Term
	}
	return m.LogTerm <= m.Term
}

// handleAppendEntries is the follower's side of AppendEntries (paper §5.3).
func (r *raft) handleAppendEntries(m *raftpb.Message) {
	if !validAppend(m) {
		r.logger.Warn("ignored malformed MsgApp", zap.Uint64("from", m.From),
			zap.Uint64("index", m.Index), zap.Uint64("log_term", m.LogTerm), zap.Int("entries", len(m.Entries)))
		return
	}
	if m.Index < r.raftLog.committed {
		// Everything up to our commit index is known to match; say so,
		// and the leader skips ahead.
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.committed, Epoch: m.Epoch})
		return
	}
	if lastNew, ok := r.raftLog.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries...); ok {
		resp := r.newMessage(m.From, raftpb.MsgAppResp, m.Epoch)
		resp.Index = lastNew
		r.send(resp)
		return
	}
	// Mismatch. Hint at the last index whose term is at most the leader's
	// term at m.Index: no entry after it can match, since terms in a log
	// never decrease. That index is capped by our last index.
	hintIndex := min(m.Index, r.raftLog.lastIndex())
	hintIndex, hintTerm := r.raftLog.findConflictByTerm(hintIndex, m.LogTerm)
	r.logger.Debug("rejected MsgApp",
		zap.Uint64("from", m.From), zap.Uint64("index", m.Index), zap.Uint64("log_term", m.LogTerm),
		zap.Uint64("hint_index", hintIndex), zap.Uint64("hint_term", hintTerm))
	r.send(&raftpb.Message{
		To:         m.From,
		Type:       raftpb.MsgAppResp,
		Index:      m.Index,
		Reject:     true,
		RejectHint: hintIndex,
		LogTerm:    hintTerm,
		Epoch:      m.Epoch,
	})
}

func (r *raft) handleHeartbeat(m *raftpb.Message) {
	if m.Commit > r.raftLog.lastIndex() {
		// A leader never sends more than our match index; a larger value
		// cannot be trusted to describe entries we hold.
		r.logger.Warn("ignored heartbeat commit beyond our log",
			zap.Uint64("from", m.From), zap.Uint64("commit", m.Commit), zap.Uint64("last_index", r.raftLog.lastIndex()))
	} else {
		r.raftLog.commitTo(m.Commit)
	}
	resp := r.newMessage(m.From, raftpb.MsgHeartbeatResp, m.Epoch)
	resp.Context = m.Context
	r.send(resp)
}

func (r *raft) handleSnapshot(m *raftpb.Message) {
	s := m.Snapshot
	if s == nil || s.Metadata == nil || s.Metadata.Index == 0 {
		r.logger.Warn("ignored MsgSnap without snapshot metadata", zap.Uint64("from", m.From))
		return
	}
	sindex, sterm := s.Metadata.Index, s.Metadata.Term
	if sterm > m.Term {
		// A leader's log holds no entry of a term beyond its own; such a
		// snapshot would make our log look newer than any other.
		r.logger.Warn("ignored snapshot of a term beyond the sender's", zap.Uint64("from", m.From),
			zap.Uint64("snap_term", sterm), zap.Uint64("msg_term", m.Term))
		return
	}
	if r.restore(s) {
		r.logger.Info("restored snapshot", zap.Uint64("from", m.From),
			zap.Uint64("snap_index", sindex), zap.Uint64("snap_term", sterm))
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.lastIndex(), Epoch: m.Epoch})
		return
	}
	r.logger.Info("ignored snapshot", zap.Uint64("from", m.From),
		zap.Uint64("snap_index", sindex), zap.Uint64("snap_term", sterm), zap.Uint64("commit", r.raftLog.committed))
	r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Index: r.raftLog.committed, Epoch: m.Epoch})
}
