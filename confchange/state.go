package confchange

import (
	"fmt"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// state is the configuration being built by one Changer call. cfg is a deep
// copy of the tracker's config; prs is a fresh map whose values are still
// shared with the tracker until they are replaced (see setIsLearner), so
// nothing reachable from the tracker is ever written.
type state struct {
	cfg progress.Config
	prs progress.ProgressMap
	// fresh holds the IDs whose Progress was allocated or copied by this
	// call and may therefore be written in place.
	fresh map[uint64]bool

	next        uint64 // Next of a node that is added
	maxInflight int
	maxBytes    uint64
}

// start checks the tracker and copies it into a state ready to be changed.
func (c Changer) start() (*state, error) {
	t := &c.Tracker
	if err := checkInvariants(t.Config, t.Progress); err != nil {
		return nil, fmt.Errorf("%w (in the tracker before the change)", err)
	}
	s := &state{
		cfg:         t.Config.Clone(),
		prs:         make(progress.ProgressMap, len(t.Progress)),
		fresh:       map[uint64]bool{},
		next:        max(c.LastIndex, 1),
		maxInflight: t.MaxInflight,
		maxBytes:    t.MaxInflightBytes,
	}
	for id, pr := range t.Progress {
		s.prs[id] = pr
	}
	// Changes write into these sets; a clone of a nil set is nil.
	if s.cfg.Voters[0] == nil {
		s.cfg.Voters[0] = quorum.MajorityConfig{}
	}
	if s.cfg.Learners == nil {
		s.cfg.Learners = map[uint64]struct{}{}
	}
	if s.cfg.LearnersNext == nil {
		s.cfg.LearnersNext = map[uint64]struct{}{}
	}
	return s, nil
}

// finish normalises empty sets to nil (so that equal configurations are
// reflect.DeepEqual however they were reached; readers of a Config must not
// assume its maps are allocated) and checks the result.
func (s *state) finish() (progress.Config, progress.ProgressMap, error) {
	if len(s.cfg.Voters[0]) == 0 {
		s.cfg.Voters[0] = nil
	}
	if len(s.cfg.Voters[1]) == 0 {
		s.cfg.Voters[1] = nil
	}
	if len(s.cfg.Learners) == 0 {
		s.cfg.Learners = nil
	}
	if len(s.cfg.LearnersNext) == 0 {
		s.cfg.LearnersNext = nil
	}
	if err := checkInvariants(s.cfg, s.prs); err != nil {
		// Every change keeps the invariants by construction, and the input
		// was checked in start; reaching this is a bug in this package, but
		// an error still serves the caller better than a crash.
		return fail(fmt.Errorf("%w (in the result of the change)", err))
	}
	return s.cfg, s.prs, nil
}

func (s *state) joint() bool { return len(s.cfg.Voters[1]) > 0 }

// apply applies ccs in order to the incoming half. Changes for node 0 are
// ignored: 0 is never a valid node ID, and an application may use it in a
// ConfChangeV2 that carries no change of its own.
func (s *state) apply(ccs []*raftpb.ConfChangeSingle) error {
	for i, cc := range ccs {
		if cc == nil {
			return fmt.Errorf("%w: change #%d is nil", ErrInvalidChange, i)
		}
		if cc.NodeId == 0 {
			continue
		}
		switch cc.Type {
		case raftpb.ConfChangeAddNode:
			s.makeVoter(cc.NodeId)
		case raftpb.ConfChangeAddLearnerNode:
			s.makeLearner(cc.NodeId)
		case raftpb.ConfChangeRemoveNode:
			s.remove(cc.NodeId)
		case raftpb.ConfChangeUpdateNode:
			// Membership is unchanged; the application acts on the context.
		default:
			return fmt.Errorf("%w: change #%d for node %d has unknown type %d",
				ErrInvalidChange, i, cc.NodeId, int32(cc.Type))
		}
	}
	return nil
}

// makeVoter makes id a voter of the incoming half. A learner (or a node
// queued in LearnersNext) keeps its Progress, so a caught-up learner is
// promoted without starting replication over (thesis §4.2.1).
func (s *state) makeVoter(id uint64) {
	if _, ok := s.prs[id]; !ok {
		s.add(id, false)
	}
	s.setIsLearner(id, false)
	delete(s.cfg.Learners, id)
	delete(s.cfg.LearnersNext, id)
	s.cfg.Voters[0][id] = struct{}{}
}

// makeLearner makes id a learner. A voter of the outgoing half must keep
// voting until the joint configuration is left, so it goes to LearnersNext
// instead and becomes a learner in LeaveJoint.
func (s *state) makeLearner(id uint64) {
	if _, ok := s.prs[id]; !ok {
		s.add(id, true)
	}
	delete(s.cfg.Voters[0], id)
	if _, outgoing := s.cfg.Voters[1][id]; outgoing {
		s.cfg.LearnersNext[id] = struct{}{}
		return
	}
	s.setLearner(id)
}

// setLearner records id as a learner, in the config and its Progress.
func (s *state) setLearner(id uint64) {
	s.setIsLearner(id, true)
	s.cfg.Learners[id] = struct{}{}
}

// remove takes id out of the incoming half and the learner sets. Its
// Progress stays while it is still a voter of the outgoing half, which
// needs it to count acknowledgements until the joint config is left.
func (s *state) remove(id uint64) {
	delete(s.cfg.Voters[0], id)
	delete(s.cfg.Learners, id)
	delete(s.cfg.LearnersNext, id)
	if _, outgoing := s.cfg.Voters[1][id]; !outgoing {
		delete(s.prs, id)
		delete(s.fresh, id)
	}
}

// add gives a new node a fresh Progress. It is marked RecentActive so that a
// node that has not had a chance to answer yet does not make the leader's
// CheckQuorum step down (thesis §6.2).
func (s *state) add(id uint64, learner bool) {
	s.prs[id] = &progress.Progress{
		Match:        0,
		Next:         s.next,
		State:        progress.StateProbe,
		RecentActive: true,
		Inflights:    progress.NewInflights(s.maxInflight, s.maxBytes),
		IsLearner:    learner,
	}
	s.fresh[id] = true
}

// setIsLearner sets the IsLearner flag of id's Progress. A Progress still
// shared with the tracker is copied by value before it is written, and only
// if the flag actually changes. id must have a Progress.
func (s *state) setIsLearner(id uint64, learner bool) {
	pr := s.prs[id]
	if pr.IsLearner == learner {
		return
	}
	if !s.fresh[id] {
		cp := *pr
		pr = &cp
		s.prs[id] = pr
		s.fresh[id] = true
	}
	pr.IsLearner = learner
}
