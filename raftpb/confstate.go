package raftpb

import (
	"fmt"
	"slices"
)

// Equivalent returns nil if cs and other describe the same configuration:
// the same voters, outgoing voters, learners and next learners, in any
// order, and the same AutoLeave. A nil ConfState, a nil slice and an empty
// slice all mean "none". Neither argument is modified. Otherwise the error
// shows both configurations with their ids sorted.
//
// Duplicates are not collapsed: [1 1 2] and [1 2] differ, since a
// configuration that lists a node twice is itself a bug worth seeing.
func (cs *ConfState) Equivalent(other *ConfState) error {
	a, b := sortedConfState(cs), sortedConfState(other)
	if slices.Equal(a.Voters, b.Voters) &&
		slices.Equal(a.VotersOutgoing, b.VotersOutgoing) &&
		slices.Equal(a.Learners, b.Learners) &&
		slices.Equal(a.LearnersNext, b.LearnersNext) &&
		a.AutoLeave == b.AutoLeave {
		return nil
	}
	return fmt.Errorf("raftpb: ConfStates differ:\n  %s\n  %s", DescribeConfState(a), DescribeConfState(b))
}

// sortedConfState returns a copy of cs with every id list sorted.
func sortedConfState(cs *ConfState) *ConfState {
	sorted := func(ids []uint64) []uint64 {
		ids = slices.Clone(ids)
		slices.Sort(ids)
		return ids
	}
	return &ConfState{
		Voters:         sorted(cs.GetVoters()),
		VotersOutgoing: sorted(cs.GetVotersOutgoing()),
		Learners:       sorted(cs.GetLearners()),
		LearnersNext:   sorted(cs.GetLearnersNext()),
		AutoLeave:      cs.GetAutoLeave(),
	}
}
