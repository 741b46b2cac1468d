package raft

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// The tests in this file prove that the safety checker of random_test.go
// notices broken states: a checker that stays quiet whatever happens would
// make TestRandomized pass for nothing.

// viewOf builds a node view whose log holds entries with the given terms
// from index 1, with data "i<index>t<term>" unless data overrides it.
func viewOf(id uint64, term uint64, state StateType, commit uint64, terms ...uint64) nodeView {
	v := nodeView{id: id, term: term, state: state, commit: commit, firstIndex: 1}
	for i, lt := range terms {
		idx := uint64(i + 1)
		v.log = append(v.log, &raftpb.Entry{Index: idx, Term: lt, Data: []byte(checkerEntryData(idx, lt))})
	}
	return v
}

func checkerEntryData(idx, term uint64) string { return fmt.Sprintf("i%dt%d", idx, term) }

// withApplied marks the first n entries of v's log applied.
func withApplied(v nodeView, n int) nodeView {
	for _, e := range v.log[:n] {
		v.applied = append(v.applied, recOf(e))
	}
	return v
}

func TestSafetyCheckerHandmade(t *testing.T) {
	tests := []struct {
		name string
		// states are checked in turn; the last must fail with want.
		states [][]nodeView
		want   string
	}{
		{
			name: "consistent cluster",
			states: [][]nodeView{{
				withApplied(viewOf(1, 2, StateLeader, 3, 1, 1, 2), 3),
				withApplied(viewOf(2, 2, StateFollower, 2, 1, 1, 2), 2),
				viewOf(3, 2, StateFollower, 1, 1),
			}},
		},
		{
			name: "two leaders in one term",
			states: [][]nodeView{{
				viewOf(1, 2, StateLeader, 0, 1),
				viewOf(2, 2, StateLeader, 0, 1),
			}},
			want: propElectionSafety,
		},
		{
			name: "a second leader of a term, after the first stepped down",
			states: [][]nodeView{
				{viewOf(1, 2, StateLeader, 0, 1), viewOf(2, 2, StateFollower, 0, 1)},
				{viewOf(1, 2, StateFollower, 0, 1), viewOf(2, 2, StateLeader, 0, 1)},
			},
			want: propElectionSafety,
		},
		{
			name: "logs agree at index 3 but differ at 2",
			states: [][]nodeView{{
				viewOf(1, 3, StateFollower, 1, 1, 2, 3),
				func() nodeView {
					v := viewOf(2, 3, StateFollower, 1, 1, 2, 3)
					v.log[1] = &raftpb.Entry{Index: 2, Term: 2, Data: []byte("other")}
					return v
				}(),
			}},
			want: propLogMatching,
		},
		{
			name: "a leader lacks an entry committed in an earlier term",
			states: [][]nodeView{
				{viewOf(1, 2, StateLeader, 2, 1, 2), viewOf(2, 2, StateFollower, 1, 1, 2)},
				{viewOf(1, 2, StateFollower, 2, 1, 2), viewOf(3, 3, StateLeader, 1, 1)},
			},
			want: propLeaderComplete,
		},
		{
			name: "a committed entry is replaced",
			states: [][]nodeView{
				{viewOf(1, 2, StateLeader, 2, 1, 2)},
				{viewOf(1, 3, StateFollower, 2, 1, 3)},
			},
			want: propCommittedChanged,
		},
		{
			name: "two nodes apply different entries at one index",
			states: [][]nodeView{{
				withApplied(viewOf(1, 2, StateFollower, 2, 1, 2), 2),
				func() nodeView {
					v := withApplied(viewOf(2, 2, StateFollower, 2, 1, 2), 2)
					v.applied[1].data = "evil"
					return v
				}(),
			}},
			want: propStateMachine,
		},
		{
			name: "applied beyond commit",
			states: [][]nodeView{{
				withApplied(viewOf(1, 2, StateFollower, 1, 1, 2), 2),
			}},
			want: propStateMachine,
		},
		{
			name: "commit moves back within an incarnation",
			states: [][]nodeView{
				{viewOf(1, 2, StateFollower, 2, 1, 2)},
				{viewOf(1, 2, StateFollower, 1, 1, 2)},
			},
			want: propCommitBackwards,
		},
		{
			name: "commit may restart lower after a crash",
			states: [][]nodeView{
				{viewOf(1, 2, StateFollower, 2, 1, 2)},
				{func() nodeView { v := viewOf(1, 2, StateFollower, 1, 1, 2); v.incarnation = 1; return v }()},
			},
		},
		{
			name: "term moves back",
			states: [][]nodeView{
				{viewOf(1, 3, StateFollower, 0, 1)},
				{viewOf(1, 2, StateFollower, 0, 1)},
			},
			want: propTermBackwards,
		},
		{
			name: "log terms decrease",
			states: [][]nodeView{{
				viewOf(1, 3, StateFollower, 0, 1, 3, 2),
			}},
			want: propLogShape,
		},
		{
			name: "commit beyond the log",
			states: [][]nodeView{{
				viewOf(1, 3, StateFollower, 4, 1, 3),
			}},
			want: propLogShape,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSafetyChecker()
			for i, st := range tt.states {
				err := c.check(st)
				last := i == len(tt.states)-1
				switch {
				case !last && err != nil:
					t.Fatalf("state %d: unexpected violation: %v", i, err)
				case last && tt.want == "" && err != nil:
					t.Fatalf("unexpected violation: %v", err)
				case last && tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want+":")):
					t.Fatalf("got %v, want a %q violation", err, tt.want)
				}
			}
		})
	}
}

// settledSim returns a 3-node randomized cluster that has elected a leader
// and committed a proposal on every node, with the checker's history
// filled in.
func settledSim(t *testing.T) *randomSim {
	t.Helper()
	s := newRandomSim(t, simOptions{seed: 7, nodes: 3})
	s.checkNow()
	s.settle()
	return s
}

func followerOf(t *testing.T, s *randomSim) *simNode {
	t.Helper()
	for _, n := range s.nodes {
		if n.rn.raft.state == StateFollower {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

// TestSafetyCheckerCatchesCorruption breaks the state of a live cluster in
// ways real bugs would, and checks that the checker reports each.
func TestSafetyCheckerCatchesCorruption(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, s *randomSim)
		want    string
	}{
		{"no corruption", func(*testing.T, *randomSim) {}, ""},
		{"applied entry overwritten", func(t *testing.T, s *randomSim) {
			n := followerOf(t, s)
			n.applied[len(n.applied)-1].data = "not what was committed"
		}, propStateMachine},
		{"second leader forged in the leader's term", func(t *testing.T, s *randomSim) {
			followerOf(t, s).rn.raft.state = StateLeader
		}, propElectionSafety},
		{"committed entry rewritten in storage", func(t *testing.T, s *randomSim) {
			n := followerOf(t, s)
			ms := n.storage
			last := len(ms.ents) - 1
			e := ms.ents[last]
			ms.ents[last] = &raftpb.Entry{Index: e.Index, Term: e.Term, Data: []byte("forged")}
		}, propCommittedChanged},
		{"commit index rewound", func(t *testing.T, s *randomSim) {
			followerOf(t, s).rn.raft.raftLog.committed--
		}, propCommitBackwards},
		{"term rewound", func(t *testing.T, s *randomSim) {
			followerOf(t, s).rn.raft.Term--
		}, propTermBackwards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settledSim(t)
			tt.corrupt(t, s)
			err := s.check.check(s.views())
			if tt.want == "" {
				if err != nil {
					t.Fatalf("violation without corruption: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Fatalf("got %v, want a %q violation", err, tt.want)
			}
			t.Logf("reported: %v", err)
		})
	}
}
