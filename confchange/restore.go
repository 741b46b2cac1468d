package confchange

import (
	"errors"
	"fmt"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// ErrInvalidConfState is returned by [Restore], together with a more
// specific error such as [ErrZeroVoters] (both match errors.Is), when the
// ConfState does not describe a valid configuration.
var ErrInvalidConfState = errors.New("confchange: invalid conf state")

// Restore builds the configuration described by cs, as found in a snapshot
// or in storage at startup. It starts from an empty configuration: the
// Config and Progress of chg.Tracker are ignored (and not modified); only
// its MaxInflight, MaxInflightBytes and chg.LastIndex shape the Progress of
// the restored nodes.
//
// The configuration is reached through the same steps a cluster takes, so
// it obeys the same rules: outside a joint configuration, one
// [Changer.Simple] addition per voter and then per learner; for a joint
// one, the outgoing voters are added that way first, and a single
// [Changer.EnterJoint] then turns them into the incoming voters, learners
// and LearnersNext of cs.
//
// cs comes from a peer, so it is validated first: no node 0, no node both a
// voter and a learner, LearnersNext only made of outgoing voters, and
// LearnersNext and AutoLeave only when joint. The empty ConfState (and a
// nil one) restores the empty configuration; any other ConfState needs
// voters. Every error wraps [ErrInvalidConfState].
func Restore(chg Changer, cs *raftpb.ConfState) (progress.Config, progress.ProgressMap, error) {
	if err := validateConfState(cs); err != nil {
		return fail(fmt.Errorf("%w {%s}: %w", ErrInvalidConfState, raftpb.DescribeConfState(cs), err))
	}
	chg.Tracker.Config = progress.Config{}
	chg.Tracker.Progress = progress.ProgressMap{}
	step := func(cfg progress.Config, prs progress.ProgressMap, err error) error {
		if err != nil {
			return fmt.Errorf("%w {%s}: %w", ErrInvalidConfState, raftpb.DescribeConfState(cs), err)
		}
		chg.Tracker.Config, chg.Tracker.Progress = cfg, prs
		return nil
	}

	joint := len(cs.GetVotersOutgoing()) > 0
	first := cs.GetVoters()
	if joint {
		first = cs.GetVotersOutgoing()
	}
	for _, id := range first {
		if err := step(chg.Simple(change(raftpb.ConfChangeAddNode, id))); err != nil {
			return fail(err)
		}
	}
	if !joint {
		for _, id := range cs.GetLearners() {
			if err := step(chg.Simple(change(raftpb.ConfChangeAddLearnerNode, id))); err != nil {
				return fail(err)
			}
		}
	} else if err := step(chg.EnterJoint(cs.GetAutoLeave(), jointChanges(cs)...)); err != nil {
		return fail(err)
	}

	// validateConfState should make the steps above reproduce cs exactly; a
	// difference means the two disagree on a rule, and the config must not
	// be used.
	if err := sameConfig(chg.Tracker.Config, cs); err != nil {
		return fail(fmt.Errorf("%w {%s}: restored %s: %w", ErrInvalidConfState, raftpb.DescribeConfState(cs), chg.Tracker.Config, err))
	}
	return chg.Tracker.Config, chg.Tracker.Progress, nil
}

// jointChanges turns a configuration whose incoming voters are
// cs.VotersOutgoing into the one cs describes: the outgoing voters are
// removed from the incoming half (their Progress stays, they are still
// outgoing voters), then cs's voters, learners and next learners are added.
func jointChanges(cs *raftpb.ConfState) []*raftpb.ConfChangeSingle {
	var ccs []*raftpb.ConfChangeSingle
	for _, id := range cs.GetVotersOutgoing() {
		ccs = append(ccs, change(raftpb.ConfChangeRemoveNode, id))
	}
	for _, id := range cs.GetVoters() {
		ccs = append(ccs, change(raftpb.ConfChangeAddNode, id))
	}
	for _, id := range cs.GetLearners() {
		ccs = append(ccs, change(raftpb.ConfChangeAddLearnerNode, id))
	}
	// An outgoing voter made a learner while joint lands in LearnersNext.
	for _, id := range cs.GetLearnersNext() {
		ccs = append(ccs, change(raftpb.ConfChangeAddLearnerNode, id))
	}
	return ccs
}

func change(typ raftpb.ConfChangeType, id uint64) *raftpb.ConfChangeSingle {
	return &raftpb.ConfChangeSingle{Type: typ, NodeId: id}
}

// validateConfState checks the rules of checkInvariants on the sets of a
// ConfState, which the Changer steps of Restore would otherwise silently
// repair (a next learner that is not an outgoing voter would become a
// plain learner, for instance). Duplicate IDs within one list are harmless.
func validateConfState(cs *raftpb.ConfState) error {
	voters, learners := set(cs.GetVoters()), set(cs.GetLearners())
	out, next := set(cs.GetVotersOutgoing()), set(cs.GetLearnersNext())
	for _, s := range []quorum.MajorityConfig{voters, learners, out, next} {
		if _, ok := s[0]; ok {
			return errors.New("node ID 0")
		}
	}
	if len(voters) == 0 {
		if len(learners)+len(out)+len(next) > 0 || cs.GetAutoLeave() {
			return ErrZeroVoters
		}
		return nil // the empty configuration
	}
	if id, ok := common(learners, voters); ok {
		return fmt.Errorf("node %d is both a voter and a learner", id)
	}
	if id, ok := common(learners, out); ok {
		return fmt.Errorf("node %d is both an outgoing voter and a learner", id)
	}
	if id, ok := common(next, voters); ok {
		return fmt.Errorf("node %d is both a voter and a next learner", id)
	}
	if id, ok := common(next, learners); ok {
		return fmt.Errorf("node %d is both a learner and a next learner", id)
	}
	for _, id := range next.Slice() {
		if _, ok := out[id]; !ok {
			return fmt.Errorf("next learner %d is not an outgoing voter", id)
		}
	}
	if len(out) == 0 && cs.GetAutoLeave() {
		return errors.New("auto-leave set outside a joint config")
	}
	return nil
}

// sameConfig reports the first set in which cfg differs from cs.
func sameConfig(cfg progress.Config, cs *raftpb.ConfState) error {
	pairs := []struct {
		name string
		got  quorum.MajorityConfig
		want []uint64
	}{
		{"voters", cfg.Voters[0], cs.GetVoters()},
		{"outgoing voters", cfg.Voters[1], cs.GetVotersOutgoing()},
		{"learners", cfg.Learners, cs.GetLearners()},
		{"next learners", cfg.LearnersNext, cs.GetLearnersNext()},
	}
	for _, p := range pairs {
		want := set(p.want)
		if symDiff(want, p.got) != 0 {
			return fmt.Errorf("%s %s, want %s", p.name, p.got, want)
		}
	}
	if cfg.AutoLeave != cs.GetAutoLeave() {
		return fmt.Errorf("auto-leave %t, want %t", cfg.AutoLeave, cs.GetAutoLeave())
	}
	return nil
}

func set(ids []uint64) quorum.MajorityConfig {
	s := make(quorum.MajorityConfig, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// common returns the lowest ID in both a and b.
func common(a, b quorum.MajorityConfig) (uint64, bool) {
	for _, id := range a.Slice() {
		if _, ok := b[id]; ok {
			return id, true
		}
	}
	return 0, false
}
