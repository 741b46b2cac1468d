package raft

import (
	"encoding/binary"
	"math"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// Leader leases for ReadOnlyLeaseBased (thesis §6.4.1).
//
// A follower with CheckQuorum refuses votes for an election timeout after
// it last heard from the leader (the lease check in stepTerm). So once a
// quorum has received a heartbeat the leader sent at time s, no other
// leader can be elected before s plus an election timeout, as measured on
// the followers' clocks; until then the leader may answer reads from its
// own state. The lease must start when the heartbeat was sent, not when
// its ack arrived: the ack may have been delayed arbitrarily. Heartbeats
// therefore carry the leader's tick count in their Context (unused for
// anything else in lease mode), the acks echo it, and a read is served
// only while a quorum has acked a heartbeat sent within leaseTicks.
//
// Checking the quorum once per election timeout, as CheckQuorum does, is
// not enough: a leader cut off right after a successful check keeps
// leading for up to two timeouts, while the others elect a new leader
// after one.
//
// leaseTicks leaves room for clock drift: with ElectionTick e, a follower
// refuses votes for at least e-1 of its ticks after a heartbeat, and the
// lease lasts fewer than (e-1)*2/3 of the leader's ticks, which is safe as
// long as no node's clock runs more than 1.5 times as fast as another's
// (±20% around a common rate).

// leaseTicks is the length of the lease in the leader's ticks.
func (r *raft) leaseTicks() uint64 {
	return uint64(r.electionTimeout-1) * 2 / 3
}

// leaseCtx encodes the current lease tick as a heartbeat context.
func (r *raft) leaseCtx() []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), r.leaseTick)
}

// recordLeaseAck notes a heartbeat ack carrying a lease tick (lease mode
// only; handleReadIndexAck checks it).
func (r *raft) recordLeaseAck(m *raftpb.Message) {
	if len(m.Context) != 8 {
		return
	}
	t := binary.BigEndian.Uint64(m.Context)
	if t > r.leaseTick {
		r.logger.Warn("ignored heartbeat ack with a lease tick from the future",
			zap.Uint64("from", m.From), zap.Uint64("tick", t), zap.Uint64("now", r.leaseTick))
		return
	}
	if r.leaseAcks == nil {
		r.leaseAcks = make(map[uint64]uint64)
	}
	// Stored plus one, so that zero means "no ack".
	if t+1 > r.leaseAcks[m.From] {
		r.leaseAcks[m.From] = t + 1
	}
	if len(r.leaseWaitingReads) > 0 && r.leaseValid() {
		reads := r.leaseWaitingReads
		r.leaseWaitingReads = nil
		for _, req := range reads {
			r.answerRead(req, r.raftLog.committed)
		}
	}
}

// leaseAckIndexer presents the lease acks to quorum.JointConfig: the
// "index" of a voter is one plus the lease tick of its latest ack (zero:
// none yet); the leader's own is one plus now.
type leaseAckIndexer struct{ r *raft }

func (l leaseAckIndexer) AckedIndex(id uint64) (quorum.Index, bool) {
	if id == l.r.id {
		return quorum.Index(l.r.leaseTick + 1), true
	}
	t, ok := l.r.leaseAcks[id]
	return quorum.Index(t), ok
}

// leaseValid reports whether the leader may answer a read from its lease
// now.
func (r *raft) leaseValid() bool {
	if (r.leaseBroken || r.leadTransferee != None) && !mutLeaseSurvivesTransfer() {
		// A transferee campaigns past the followers' leases (MsgTimeoutNow
		// forces the election), and a TimeoutNow may arrive late: after
		// starting a transfer, the lease of this term cannot be trusted.
		return false
	}
	t := uint64(r.trk.Voters.CommittedIndex(leaseAckIndexer{r}))
	if t == 0 || t == math.MaxUint64 || t > r.leaseTick+1 {
		return false // no quorum of acks yet, or no voters
	}
	return r.leaseTick+1-t < r.leaseTicks()
}

// serveLeaseRead answers a read from the lease, or holds it until
// heartbeat acks renew the lease. Reads held when the leader steps down
// are dropped, like any read without a leader.
func (r *raft) serveLeaseRead(m *raftpb.Message) {
	if r.leaseBroken && !mutLeaseSurvivesTransfer() {
		r.logger.Info("dropped lease read after a leadership transfer began in this term",
			zap.Uint64("term", r.Term))
		return
	}
	if !r.leaseValid() && !mutLeaseIgnoresAcks() {
		r.leaseWaitingReads = append(r.leaseWaitingReads, m)
		return
	}
	r.answerRead(m, r.raftLog.committed)
}
