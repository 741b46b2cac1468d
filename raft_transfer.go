package raft

import (
	"go.uber.org/zap"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// handleTransferLeader starts handing leadership to m.From (thesis §3.10):
// catch the transferee up, then tell it to campaign at once. Proposals are
// refused meanwhile so that it can catch up; the transfer is abandoned
// after an election timeout (tickHeartbeat).
func (r *raft) handleTransferLeader(m *raftpb.Message, pr *progress.Progress) {
	if pr.IsLearner {
		r.logger.Debug("ignored leadership transfer to a learner", zap.Uint64("to", m.From))
		return
	}
	transferee := m.From
	if last := r.leadTransferee; last != None {
		if last == transferee {
			r.logger.Info("leadership transfer already in progress", zap.Uint64("to", transferee))
			return
		}
		r.abortLeaderTransfer()
		r.logger.Info("aborted previous leadership transfer", zap.Uint64("to", last))
	}
	if transferee == r.id {
		r.logger.Debug("already leader; ignoring transfer to self")
		return
	}
	r.logger.Info("starting leadership transfer", zap.Uint64("to", transferee), zap.Uint64("term", r.Term))
	r.electionElapsed = 0
	r.leadTransferee = transferee
	if pr.Match == r.raftLog.lastIndex() {
		r.sendTimeoutNow(transferee)
		r.logger.Info("sent MsgTimeoutNow immediately: transferee has the log", zap.Uint64("to", transferee))
	} else {
		r.sendAppend(transferee)
	}
}

func (r *raft) sendTimeoutNow(to uint64) {
	r.send(&raftpb.Message{To: to, Type: raftpb.MsgTimeoutNow})
	// The transferee will campaign past the followers' leases.
	r.leaseBroken = true
	if r.stepDownOnRemoval && !r.isVoter() {
		// Handing over because we are no longer a voter: the transferee
		// holds our whole log now, so it can win even if this message is
		// lost, with our vote if it needs it. As a non-member we would
		// not hear of its term (a leader sends nothing to non-members),
		// so step down now rather than lead on in an old term.
		r.becomeFollower(r.Term, None)
	}
}

func (r *raft) abortLeaderTransfer() {
	r.leadTransferee = None
}
