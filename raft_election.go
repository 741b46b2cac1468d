package raft

import (
	"go.uber.org/zap"

	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// hup starts an election (or pre-election) unless this node may not lead.
func (r *raft) hup(t campaignType) {
	if r.state == StateLeader {
		r.logger.Debug("ignoring MsgHup because already leader")
		return
	}
	if !r.promotable() {
		r.logger.Warn("is unpromotable and can not campaign")
		return
	}
	if r.hasUnappliedConfChanges() {
		// A committed conf change not yet applied may remove us or change
		// the quorum we would count votes against: wait until it is.
		r.logger.Warn("cannot campaign while there are unapplied conf changes",
			zap.Uint64("applied", r.raftLog.applied), zap.Uint64("commit", r.raftLog.committed))
		return
	}
	r.logger.Info("starting a new election", zap.Uint64("term", r.Term), zap.Stringer("type", t))
	r.campaign(t)
}

// hasUnappliedConfChanges scans the committed but unapplied entries for a
// conf change. The scan is paged so that a long tail does not load at once.
func (r *raft) hasUnappliedConfChanges() bool {
	if r.raftLog.applied >= r.raftLog.committed {
		return false
	}
	found := false
	lo, hi := r.raftLog.applied+1, r.raftLog.committed+1
	pageSize := r.raftLog.maxApplyingEntsSize
	if err := r.raftLog.scan(lo, hi, pageSize, func(ents []*raftpb.Entry) error {
		for _, e := range ents {
			if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
				found = true
				return errBreak
			}
		}
		return nil
	}); err != nil && err != errBreak {
		r.panicf("error scanning unapplied entries [%d, %d): %v", lo, hi, err)
	}
	return found
}

// campaign asks every voter for its vote. The node's own vote goes through
// msgsAfterAppend like any other: it only counts once it is durable.
func (r *raft) campaign(t campaignType) {
	if !r.promotable() {
		r.logger.Warn("is unpromotable; campaign() should have been called")
	}
	var term uint64
	var voteMsg raftpb.MessageType
	if t == campaignPreElection {
		r.becomePreCandidate()
		voteMsg = raftpb.MsgPreVote
		// Pre-vote for the term we would enter, without entering it.
		term = r.Term + 1
	} else {
		r.becomeCandidate()
		voteMsg = raftpb.MsgVote
		term = r.Term
	}
	var ctx []byte
	if t == campaignTransfer {
		ctx = campaignTransferCtx
	}
	lastIndex, lastTerm := r.raftLog.lastEntryID()
	for _, id := range r.trk.VoterNodes() {
		epoch := r.trk.Progress[id].Epoch
		if id == r.id {
			r.send(&raftpb.Message{To: id, Term: term, Type: raftpb.VoteResponseType(voteMsg), Epoch: epoch})
			continue
		}
		r.logger.Info("sent vote request",
			zap.Stringer("type", voteMsg), zap.Uint64("to", id), zap.Uint64("term", term),
			zap.Uint64("last_index", lastIndex), zap.Uint64("last_term", lastTerm))
		r.send(&raftpb.Message{To: id, Term: term, Type: voteMsg, Index: lastIndex, LogTerm: lastTerm,
			Context: ctx, Epoch: epoch})
	}
}

// handleVoteRequest decides a MsgVote or MsgPreVote (paper §5.2, §5.4.1).
// Learners answer too: a learner may already be a voter in a configuration
// it has not applied yet, and its vote may be needed for liveness.
func (r *raft) handleVoteRequest(m *raftpb.Message) {
	canVote := r.Vote == m.From ||
		// Not voted, and no leader known for this term.
		(r.Vote == None && r.lead == None) ||
		// A pre-vote for a future term we have not entered.
		(m.Type == raftpb.MsgPreVote && m.Term > r.Term)
	lastIndex, lastTerm := r.raftLog.lastEntryID()
	if canVote && (r.raftLog.isUpToDate(m.Index, m.LogTerm) || mutVoteIgnoresLog()) {
		r.logger.Info("cast vote",
			zap.Stringer("type", m.Type), zap.Uint64("for", m.From), zap.Uint64("msg_term", m.Term),
			zap.Uint64("term", r.Term), zap.Uint64("last_index", lastIndex), zap.Uint64("last_term", lastTerm))
		// The response carries the term of the request: for a pre-vote
		// it is the future term, which the candidate recognises.
		r.send(&raftpb.Message{To: m.From, Term: m.Term, Type: raftpb.VoteResponseType(m.Type), Epoch: m.Epoch})
		if m.Type == raftpb.MsgVote {
			r.electionElapsed = 0
			r.Vote = m.From
		}
		return
	}
	r.logger.Info("rejected vote",
		zap.Stringer("type", m.Type), zap.Uint64("from", m.From), zap.Uint64("msg_term", m.Term),
		zap.Uint64("term", r.Term), zap.Uint64("vote", r.Vote), zap.Uint64("last_index", lastIndex),
		zap.Uint64("last_term", lastTerm))
	resp := &raftpb.Message{To: m.From, Term: r.Term, Type: raftpb.VoteResponseType(m.Type), Reject: true, Epoch: m.Epoch}
	if !r.isVoter() && !mutNonVoterHidesCommit() {
		// We may hold the longest log and never campaign (we are not a
		// voter in the configuration we applied), while the candidate
		// still counts our vote in a configuration it has not learned is
		// replaced: a joint one whose outgoing half needs us. Without help
		// it could never win. Tell it the commit point we know, up to its
		// last index, with our term there; see learnCommit.
		if ci := min(r.raftLog.committed, m.Index); ci > 0 {
			if t, err := r.raftLog.term(ci); err == nil {
				resp.Index, resp.LogTerm = ci, t
			}
		}
	}
	r.send(resp)
}

// learnCommit takes the commit point a rejecting voter told us (see
// handleVoteRequest). It is committed, and if our entry there has the same
// term, our log up to it is the voter's (Log Matching, paper §5.3): it is
// committed for us too, and applying it may move us to the configuration
// that no longer needs the voter.
func (r *raft) learnCommit(m *raftpb.Message) {
	if m.Index > r.raftLog.committed && r.raftLog.matchTerm(m.Index, m.LogTerm) {
		r.logger.Info("learned commit index from a vote rejection",
			zap.Uint64("from", m.From), zap.Uint64("commit", m.Index))
		r.raftLog.commitTo(m.Index)
	}
}

// stepCandidate is the step function of candidates and pre-candidates.
func stepCandidate(r *raft, m *raftpb.Message) error {
	// Only responses of our own kind of election count: a pre-candidate
	// ignores MsgVoteResp and a candidate MsgPreVoteResp.
	myVoteResp := raftpb.MsgVoteResp
	if r.state == StatePreCandidate {
		myVoteResp = raftpb.MsgPreVoteResp
	}
	switch m.Type {
	case raftpb.MsgProp:
		r.logger.Info("no leader; dropping proposal", zap.Uint64("term", r.Term))
		return ErrProposalDropped
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
		// A leader of our term exists (a higher term was handled already).
		r.becomeFollower(m.Term, m.From)
		return stepFollower(r, m)
	case myVoteResp:
		r.handleVoteResponse(m)
	case raftpb.MsgTimeoutNow:
		r.logger.Debug("ignored MsgTimeoutNow while campaigning", zap.Uint64("from", m.From))
	case raftpb.MsgForgetLeader:
		// There is no leader to forget.
	}
	return nil
}

func (r *raft) handleVoteResponse(m *raftpb.Message) {
	if pr := r.trk.Progress[m.From]; pr == nil || (pr.Epoch != m.Epoch && !mutIgnoreEpoch()) {
		// From a node not in the configuration, or from an earlier
		// incarnation of a node removed and re-added since we asked.
		r.logger.Info("ignored vote response from unknown or stale peer",
			zap.Uint64("from", m.From), zap.Uint64("epoch", m.Epoch))
		return
	}
	if m.Reject {
		r.learnCommit(m)
	}
	r.trk.RecordVote(m.From, !m.Reject)
	granted, rejected, res := r.trk.TallyVotes()
	r.logger.Info("vote tally",
		zap.Stringer("type", m.Type), zap.Uint64("from", m.From), zap.Bool("rejected", m.Reject),
		zap.Int("granted", granted), zap.Int("rejections", rejected))
	switch res {
	case quorum.VoteWon:
		if r.state == StatePreCandidate {
			r.campaign(campaignElection)
		} else {
			r.becomeLeader()
			r.bcastAppend()
		}
	case quorum.VoteLost:
		// Stay in our term; a pre-candidate's term never changed. The next
		// election timeout starts another attempt.
		r.becomeFollower(r.Term, None)
	}
}
