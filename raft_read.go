package raft

import (
	"go.uber.org/zap"

	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// handleReadIndex serves a ReadIndex request on the leader, from the
// application (From == None or our id) or forwarded by a follower.
func (r *raft) handleReadIndex(m *raftpb.Message) {
	if len(m.Entries) != 1 || m.Entries[0] == nil {
		r.logger.Warn("ignored malformed MsgReadIndex", zap.Uint64("from", m.From), zap.Int("entries", len(m.Entries)))
		return
	}
	if !r.committedEntryInCurrentTerm() {
		// Our commit index may lag the cluster's until an entry of our
		// own term commits (thesis §6.4 step 1): hold the read. This
		// holds for a single node too: after a restart its persisted
		// commit index may lag entries it had committed (the commit
		// index is written without sync, see Ready.MustSync).
		r.pendingReadIndexMessages = append(r.pendingReadIndexMessages, m)
		return
	}
	r.sendReadIndexResponse(m)
}

func (r *raft) committedEntryInCurrentTerm() bool {
	return r.raftLog.zeroTermOnOutOfBounds(r.raftLog.term(r.raftLog.committed)) == r.Term
}

// sendReadIndexResponse answers right away under a lease, or starts a
// heartbeat round for a safe read.
func (r *raft) sendReadIndexResponse(m *raftpb.Message) {
	if r.trk.IsSingleton() {
		// Alone, we are the quorum.
		r.answerRead(m, r.raftLog.committed)
		return
	}
	switch r.readOnly.option {
	case ReadOnlySafe:
		ctx := m.Entries[0].GetData()
		r.readOnly.addRequest(r.raftLog.committed, m)
		// The leader acknowledges itself.
		r.readOnly.recvAck(r.id, ctx)
		r.bcastHeartbeatWithCtx(ctx)
	case ReadOnlyLeaseBased:
		r.serveLeaseRead(m)
	}
}

// releasePendingReadIndexMessages serves the reads held until an entry of
// this term committed.
func (r *raft) releasePendingReadIndexMessages() {
	if len(r.pendingReadIndexMessages) == 0 {
		return
	}
	if !r.committedEntryInCurrentTerm() {
		r.panicf("releasing pending reads before an entry of term %d committed", r.Term)
	}
	msgs := r.pendingReadIndexMessages
	r.pendingReadIndexMessages = nil
	for _, m := range msgs {
		r.sendReadIndexResponse(m)
	}
}

// handleReadIndexAck counts a heartbeat response toward the safe reads it
// confirms, and answers those a quorum has confirmed.
func (r *raft) handleReadIndexAck(m *raftpb.Message) {
	if r.readOnly.option == ReadOnlyLeaseBased {
		r.recordLeaseAck(m)
		return
	}
	if r.readOnly.option != ReadOnlySafe || len(m.Context) == 0 {
		return
	}
	if r.trk.Voters.VoteResult(r.readOnly.recvAck(m.From, m.Context)) != quorum.VoteWon {
		return
	}
	for _, rs := range r.readOnly.advance(m.Context) {
		r.answerRead(rs.req, rs.index)
	}
}

// answerRead answers a confirmed read at readIndex: with a ReadState when
// it is our own, else with a response to the follower that asked.
func (r *raft) answerRead(req *raftpb.Message, readIndex uint64) {
	if req.From == None || req.From == r.id {
		r.readStates = append(r.readStates, ReadState{Index: readIndex, RequestCtx: req.Entries[0].GetData()})
		return
	}
	r.send(&raftpb.Message{Type: raftpb.MsgReadIndexResp, To: req.From, Index: readIndex, Entries: req.Entries})
}
