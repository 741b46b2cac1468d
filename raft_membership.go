package raft

import (
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/confchange"
	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// applyConfChange carries out a committed conf change and returns the new
// configuration. An invalid change (which validation on the leader
// normally keeps out of the log) returns an error and changes nothing.
func (r *raft) applyConfChange(cc *raftpb.ConfChangeV2) (*raftpb.ConfState, error) {
	changer := confchange.Changer{Tracker: r.trk, LastIndex: r.raftLog.lastIndex()}
	var cfg progress.Config
	var trk progress.ProgressMap
	var err error
	if cc.LeaveJoint() {
		cfg, trk, err = changer.LeaveJoint()
	} else if autoLeave, ok := cc.EnterJoint(); ok {
		cfg, trk, err = changer.EnterJoint(autoLeave, cc.Changes...)
	} else {
		cfg, trk, err = changer.Simple(cc.Changes...)
	}
	if err != nil {
		return nil, err
	}
	return r.switchToConfig(cfg, trk), nil
}

// switchToConfig installs a configuration and its progress map, and reacts
// to what changed: a removed or demoted leader, a quorum that now commits
// more, or a transfer target that left.
func (r *raft) switchToConfig(cfg progress.Config, trk progress.ProgressMap) *raftpb.ConfState {
	r.trk.Config = cfg
	r.trk.Progress = trk
	r.assignEpochs()
	r.logger.Info("switched to configuration", zap.Stringer("config", r.trk.Config))
	cs := r.trk.ConfState()

	if r.state == StateLeader && !r.isVoter() {
		// This leader is no longer a voter. It keeps replicating until
		// the change commits elsewhere, unless told to step down.
		if r.stepDownOnRemoval && mutStepDownAtOnce() {
			r.becomeFollower(r.Term, None)
		} else if r.stepDownOnRemoval {
			r.handOffLeadership()
		}
		return cs
	}
	if r.state != StateLeader || len(cs.Voters) == 0 {
		return cs
	}
	// The quorum changed; the commit index may move, and new peers need
	// their first append.
	if r.maybeCommit() {
		r.bcastAppend()
	} else {
		r.trk.Visit(func(id uint64, _ *progress.Progress) {
			if id != r.id {
				r.maybeSendAppend(id, false /* sendIfEmpty */)
			}
		})
	}
	if r.leadTransferee != None {
		if _, still := r.trk.Config.Voters.IDs()[r.leadTransferee]; !still {
			r.abortLeaderTransfer()
		}
	}
	return cs
}

// handOffLeadership is how a leader that is no longer a voter steps down
// with StepDownOnRemoval: it transfers leadership to the voter with the
// longest log and becomes a follower once that voter has all of its log
// (see sendTimeoutNow). Stepping down at once could strand the cluster:
// followers apply a configuration only once they learn it is committed,
// and until
// then they may still count this node, in the outgoing half of a joint
// configuration; if the messages carrying the commit index are lost, no
// one tells them, and this node refuses its vote to every candidate with
// a shorter log than its own. The transfer catches the transferee up,
// commit index included. A transfer that fails is retried every election
// timeout (tickHeartbeat).
func (r *raft) handOffLeadership() {
	var to, match uint64
	for _, id := range r.trk.VoterNodes() {
		if pr := r.trk.Progress[id]; id != r.id && pr != nil && (to == None || pr.Match > match) {
			to, match = id, pr.Match
		}
	}
	if to == None {
		r.becomeFollower(r.Term, None)
		return
	}
	r.logger.Info("no longer a voter; handing leadership over", zap.Uint64("to", to))
	r.handleTransferLeader(&raftpb.Message{Type: raftpb.MsgTransferLeader, From: to}, r.trk.Progress[to])
}

// isVoter reports whether this node votes in its configuration.
func (r *raft) isVoter() bool {
	pr, ok := r.trk.Progress[r.id]
	return ok && !pr.IsLearner
}

// assignEpochs gives every progress record that confchange created anew
// an epoch no earlier record had (see raftpb.Message.Epoch).
func (r *raft) assignEpochs() {
	r.trk.Visit(func(_ uint64, pr *progress.Progress) {
		if pr.Epoch == 0 {
			r.lastEpoch++
			pr.Epoch = r.lastEpoch
		}
	})
}

// maybeAutoLeave proposes leaving the configuration, if this node leads,
// the configuration is joint with auto-leave, and the change that entered
// it is applied (pendingConfIndex is then at most applied; once the leave
// entry is appended it points past applied, so the leave is proposed only
// once). It is called after every apply, and when a leadership transfer
// is abandoned: the proposal is refused during a transfer, and an idle
// cluster might apply nothing more that would retry it.
func (r *raft) maybeAutoLeave() {
	if r.state != StateLeader || !r.trk.Config.AutoLeave || r.raftLog.applied < r.pendingConfIndex {
		return
	}
	data, err := proto.Marshal(&raftpb.ConfChangeV2{})
	if err != nil {
		r.panicf("marshalling an empty ConfChangeV2: %v", err)
	}
	m := &raftpb.Message{
		From:    r.id,
		Type:    raftpb.MsgProp,
		Entries: []*raftpb.Entry{{Type: raftpb.EntryConfChangeV2, Data: data}},
	}
	if err := r.Step(m); err != nil {
		r.logger.Debug("not initiating automatic transition out of joint configuration",
			zap.Stringer("config", r.trk.Config), zap.Error(err))
		return
	}
	r.logger.Info("initiating automatic transition out of joint configuration",
		zap.Stringer("config", r.trk.Config))
}
