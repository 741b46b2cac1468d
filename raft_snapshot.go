package raft

import (
	"go.uber.org/zap"

	"github.com/seed901663da/raft/confchange"
	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// restore replaces the log with snapshot s and adopts its configuration.
// It reports false when the snapshot is stale, not for this node, or
// already reflected in the log (then only the commit index moves).
func (r *raft) restore(s *raftpb.Snapshot) bool {
	meta := s.Metadata
	if meta.Index <= r.raftLog.committed {
		return false
	}
	if r.state != StateFollower {
		// Only a follower receives snapshots (a candidate becomes one
		// first). Becoming a follower in a newer term guarantees we
		// never restore as leader.
		r.logger.Warn("attempted to restore snapshot as non-follower; stepping down")
		r.becomeFollower(r.Term+1, None)
		return false
	}
	cs := meta.ConfState
	if cs == nil {
		cs = &raftpb.ConfState{}
	}
	if !confStateContains(cs, r.id) {
		// Either a bug, or a snapshot for a configuration that removed
		// us; adopting it would strand this node.
		// DescribeConfState, not cs.String(): protobuf's text format
		// varies between runs on purpose, and log lines should not.
		r.logger.Warn("attempted to restore snapshot but it is not in the ConfState",
			zap.String("conf_state", raftpb.DescribeConfState(cs)))
		return false
	}
	if r.raftLog.matchTerm(meta.Index, meta.Term) {
		// The log already contains the snapshot's last entry: just catch
		// up the commit index and keep the entries after it.
		r.logger.Info("fast-forwarded commit to snapshot",
			zap.Uint64("snap_index", meta.Index), zap.Uint64("snap_term", meta.Term))
		r.raftLog.commitTo(meta.Index)
		return false
	}
	// Build the new configuration before touching the log, so that a bad
	// ConfState from a peer leaves us unchanged.
	chg := confchange.Changer{
		Tracker:   progress.MakeTracker(r.trk.MaxInflight, r.trk.MaxInflightBytes),
		LastIndex: meta.Index,
	}
	cfg, trk, err := confchange.Restore(chg, cs)
	if err == nil {
		// A ConfState that Restore accepts may still not describe what
		// it built (an ID listed twice, say); switchToConfig would then
		// find the two differ after the log is gone.
		built := progress.Tracker{Config: cfg, Progress: trk}
		err = cs.Equivalent(built.ConfState())
	}
	if err != nil {
		r.logger.Warn("ignored snapshot with invalid ConfState", zap.Error(err))
		return false
	}
	r.raftLog.restore(s)
	r.trk = chg.Tracker
	if err := cs.Equivalent(r.switchToConfig(cfg, trk)); err != nil {
		r.panicf("restored configuration differs from the snapshot's: %v", err)
	}
	pr := r.trk.Progress[r.id]
	pr.MaybeUpdate(pr.Next - 1) // the snapshot counts as matching
	r.logger.Info("restored snapshot", zap.Stringer("log", r.raftLog),
		zap.Uint64("snap_index", meta.Index), zap.Uint64("snap_term", meta.Term))
	return true
}

func confStateContains(cs *raftpb.ConfState, id uint64) bool {
	for _, set := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing} {
		for _, x := range set {
			if x == id {
				return true
			}
		}
	}
	return false
}
