package confchange

import (
	"errors"
	"fmt"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// ErrAlreadyJoint is returned (wrapped) by [Changer.EnterJoint] and
// [Changer.Simple] when the configuration is already joint: the joint
// configuration has to be left before another change can start.
var ErrAlreadyJoint = errors.New("confchange: configuration is already joint")

// ErrNotJoint is returned (wrapped) by [Changer.LeaveJoint] when the
// configuration is not joint, so there is nothing to leave.
var ErrNotJoint = errors.New("confchange: configuration is not joint")

// ErrZeroVoters is returned (wrapped) by [Changer.EnterJoint],
// [Changer.Simple] and [Restore] when the resulting (incoming) configuration
// would have no voters. Such a cluster could never commit again.
var ErrZeroVoters = errors.New("confchange: configuration would have no voters")

// ErrMultipleVoterChanges is returned (wrapped) by [Changer.Simple] when the
// changes would add or remove more than one voter. Only a single-voter change
// keeps every old majority overlapping every new one (Raft thesis §4.1);
// larger changes must go through [Changer.EnterJoint].
var ErrMultipleVoterChanges = errors.New("confchange: more than one voter changed without entering joint config")

// ErrInvalidChange is returned (wrapped) by [Changer.EnterJoint] and
// [Changer.Simple] for a nil change or a change of unknown type.
var ErrInvalidChange = errors.New("confchange: invalid conf change")

// ErrInvariant is returned (wrapped) by every method and by [Restore] when a
// configuration violates one of the membership invariants (see
// checkInvariants), either in the tracker the Changer was given or in a
// [raftpb.ConfState] passed to Restore. The message names the nodes
// involved.
var ErrInvariant = errors.New("confchange: membership invariant violated")

// Changer computes configuration changes. It never mutates Tracker (nor
// anything Tracker points to): every method returns a new Config and a new
// ProgressMap. Progress entries that do not change are shared with Tracker;
// one that changes is copied by value first, so every field, including ones
// confchange does not know about, is preserved.
type Changer struct {
	// Tracker is the current configuration and progress. Its MaxInflight and
	// MaxInflightBytes size the Inflights of nodes that are added.
	Tracker progress.Tracker
	// LastIndex is the leader's (or, on a follower, the local) last log
	// index. A node that is added starts probing at Next = max(LastIndex, 1):
	// the first append then carries the last entry, which an up-to-date node
	// accepts at once, and Match (0) stays below Next.
	LastIndex uint64
}

// EnterJoint starts a joint configuration (Raft thesis §4.3): the current
// voters become the outgoing half, and ccs are applied to the incoming half.
// Voters of the outgoing half that ccs turn into learners are recorded in
// LearnersNext and only become learners in [Changer.LeaveJoint]. autoLeave is
// recorded in Config.AutoLeave and asks the leader to leave the joint
// configuration by itself once this one is applied.
//
// It fails with [ErrAlreadyJoint] if the configuration is joint already and
// with [ErrZeroVoters] if the current or the incoming configuration has no
// voters (a joint configuration with an empty outgoing half could not be told
// apart from a simple one).
func (c Changer) EnterJoint(autoLeave bool, ccs ...*raftpb.ConfChangeSingle) (progress.Config, progress.ProgressMap, error) {
	s, err := c.start()
	if err != nil {
		return fail(err)
	}
	if s.joint() {
		return fail(fmt.Errorf("%w: can't enter a joint config again from %s", ErrAlreadyJoint, s.cfg.Voters))
	}
	if len(s.cfg.Voters[0]) == 0 {
		return fail(fmt.Errorf("%w: can't make a zero-voter config joint", ErrZeroVoters))
	}
	s.cfg.Voters[1] = s.cfg.Voters[0].Clone()
	if err := s.apply(ccs); err != nil {
		return fail(err)
	}
	if len(s.cfg.Voters[0]) == 0 {
		return fail(fmt.Errorf("%w: changes %s leave no incoming voter in %s", ErrZeroVoters, raftpb.ConfChangesToString(ccs), s.cfg.Voters))
	}
	s.cfg.AutoLeave = autoLeave
	return s.finish()
}

// LeaveJoint ends a joint configuration: the outgoing half is dropped, the
// nodes in LearnersNext become learners, nodes that are neither voters nor
// learners any more lose their Progress, and AutoLeave is cleared. It fails
// with [ErrNotJoint] if the configuration is not joint.
func (c Changer) LeaveJoint() (progress.Config, progress.ProgressMap, error) {
	s, err := c.start()
	if err != nil {
		return fail(err)
	}
	if !s.joint() {
		return fail(fmt.Errorf("%w: can't leave config %s", ErrNotJoint, s.cfg.Voters))
	}
	for id := range s.cfg.LearnersNext {
		s.setLearner(id)
	}
	s.cfg.LearnersNext = nil
	for id := range s.cfg.Voters[1] {
		_, voter := s.cfg.Voters[0][id]
		_, learner := s.cfg.Learners[id]
		if !voter && !learner {
			delete(s.prs, id)
		}
	}
	s.cfg.Voters[1] = nil
	s.cfg.AutoLeave = false
	return s.finish()
}

// Simple applies ccs directly, without a joint configuration. That is only
// safe if at most one voter is added or removed (Raft thesis §4.1), so it
// fails with [ErrMultipleVoterChanges] otherwise. Any number of learners may
// change. It also fails with [ErrAlreadyJoint] while joint and with
// [ErrZeroVoters] if no voter would remain.
func (c Changer) Simple(ccs ...*raftpb.ConfChangeSingle) (progress.Config, progress.ProgressMap, error) {
	s, err := c.start()
	if err != nil {
		return fail(err)
	}
	if s.joint() {
		return fail(fmt.Errorf("%w: can't apply simple config change in joint config %s", ErrAlreadyJoint, s.cfg.Voters))
	}
	if err := s.apply(ccs); err != nil {
		return fail(err)
	}
	before, after := c.Tracker.Voters[0], s.cfg.Voters[0]
	if symDiff(before, after) > 1 {
		return fail(fmt.Errorf("%w: voters %s -> %s", ErrMultipleVoterChanges, before, after))
	}
	if len(after) == 0 {
		return fail(fmt.Errorf("%w: changes %s leave no voter (voters were %s)", ErrZeroVoters, raftpb.ConfChangesToString(ccs), before))
	}
	return s.finish()
}

// fail is the error return of every method: a zero Config, a nil map and err.
func fail(err error) (progress.Config, progress.ProgressMap, error) {
	return progress.Config{}, nil, err
}

// symDiff counts the IDs in exactly one of a and b.
func symDiff(a, b quorum.MajorityConfig) int {
	n := 0
	for id := range a {
		if _, ok := b[id]; !ok {
			n++
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			n++
		}
	}
	return n
}
