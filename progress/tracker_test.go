package progress

import (
	"slices"
	"testing"

	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
	"google.golang.org/protobuf/proto"
)

func set(ids ...uint64) map[uint64]struct{} {
	s := map[uint64]struct{}{}
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// tracker builds a tracker with the given voters (incoming, outgoing) and
// learners, each peer at the given Match (0 if absent).
func tracker(in, out, learners []uint64, match map[uint64]uint64) *Tracker {
	t := MakeTracker(4, 0)
	t.Voters = quorum.JointConfig{set(in...), set(out...)}
	t.Learners = set(learners...)
	for _, ids := range [][]uint64{in, out, learners} {
		for _, id := range ids {
			t.Progress[id] = &Progress{Match: match[id], Next: match[id] + 1, Inflights: NewInflights(4, 0),
				IsLearner: slices.Contains(learners, id)}
		}
	}
	return &t
}

func TestMakeTracker(t *testing.T) {
	tr := MakeTracker(8, 1024)
	if tr.Progress == nil || tr.Votes == nil || tr.Learners == nil || tr.LearnersNext == nil || tr.Voters[0] == nil {
		t.Fatal("MakeTracker left a nil map")
	}
	if tr.MaxInflight != 8 || tr.MaxInflightBytes != 1024 {
		t.Errorf("limits %d/%d, want 8/1024", tr.MaxInflight, tr.MaxInflightBytes)
	}
	if got := tr.Config.String(); got != "voters=()" {
		t.Errorf("empty config prints %q", got)
	}
	if cs := tr.ConfState(); !proto.Equal(cs, &raftpb.ConfState{}) || cs.Voters != nil || cs.Learners != nil {
		t.Errorf("empty ConfState = %v, want all nil", cs)
	}
}

func TestTrackerCommitted(t *testing.T) {
	for _, tc := range []struct {
		name              string
		in, out, learners []uint64
		match             map[uint64]uint64
		want              uint64
	}{
		{"singleton", []uint64{1}, nil, nil, map[uint64]uint64{1: 7}, 7},
		{"majority of three", []uint64{1, 2, 3}, nil, nil, map[uint64]uint64{1: 9, 2: 5, 3: 7}, 7},
		{"learners do not count", []uint64{1, 2, 3}, nil, []uint64{4, 5}, map[uint64]uint64{1: 9, 4: 9, 5: 9}, 0},
		{"joint: outgoing holds back", []uint64{1, 2, 4}, []uint64{1, 2, 3}, nil, map[uint64]uint64{1: 9, 2: 3, 3: 3, 4: 9}, 3},
		{"joint: both agree", []uint64{1, 2, 4}, []uint64{1, 2, 3}, nil, map[uint64]uint64{1: 9, 2: 8, 3: 3, 4: 3}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tracker(tc.in, tc.out, tc.learners, tc.match)
			if got := tr.Committed(); got != tc.want {
				t.Errorf("Committed() = %d, want %d", got, tc.want)
			}
		})
	}

	// A voter without a Progress entry counts as having nothing.
	tr := tracker([]uint64{1, 2, 3}, nil, nil, map[uint64]uint64{1: 9, 2: 9, 3: 9})
	delete(tr.Progress, 2)
	delete(tr.Progress, 3)
	if got := tr.Committed(); got != 0 {
		t.Errorf("with two voters untracked Committed() = %d, want 0", got)
	}
}

func TestTrackerNoAlloc(t *testing.T) {
	ids := []uint64{1, 2, 3, 4, 5, 6, 7}
	tr := tracker(ids, []uint64{1, 2, 3, 4, 5, 6, 8}, nil, map[uint64]uint64{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8})
	delete(tr.Progress, 8) // Visit covers up to seven peers without allocating
	var sum uint64
	if a := testing.AllocsPerRun(100, func() { sum += tr.Committed() }); a != 0 {
		t.Errorf("Committed allocates %v times for 7+7 joint voters", a)
	}
	visit := func(id uint64, pr *Progress) { sum += pr.Match }
	if a := testing.AllocsPerRun(100, func() { tr.Visit(visit) }); a != 0 {
		t.Errorf("Visit allocates %v times for 7 peers", a)
	}
}

func TestTrackerVisit(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 30} {
		var ids []uint64
		for i := range n {
			ids = append(ids, uint64((i*37)%101+1)) // distinct, not in order
		}
		tr := tracker(ids, nil, nil, nil)
		var got []uint64
		tr.Visit(func(id uint64, pr *Progress) {
			if tr.Progress[id] != pr {
				t.Errorf("Visit passed the wrong progress for %d", id)
			}
			got = append(got, id)
		})
		want := slices.Sorted(slices.Values(ids))
		if !slices.Equal(got, want) {
			t.Errorf("%d peers: visited %v, want ascending %v", n, got, want)
		}
	}

	// A peer removed during the visit is skipped rather than passed as nil.
	tr := tracker([]uint64{1, 2, 3}, nil, nil, nil)
	var got []uint64
	tr.Visit(func(id uint64, pr *Progress) {
		got = append(got, id)
		delete(tr.Progress, 3)
	})
	if !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("visited %v, want [1 2] with 3 removed during the visit", got)
	}
}

func TestTrackerVotes(t *testing.T) {
	tr := tracker([]uint64{1, 2, 3, 4, 5}, nil, []uint64{6}, nil)
	steps := []struct {
		id                uint64
		vote              bool
		granted, rejected int
		result            quorum.VoteResult
	}{
		{1, true, 1, 0, quorum.VotePending},
		{6, true, 1, 0, quorum.VotePending}, // learner: ignored
		{9, true, 1, 0, quorum.VotePending}, // not a member: ignored
		{2, false, 1, 1, quorum.VotePending},
		{2, true, 1, 1, quorum.VotePending}, // second answer ignored
		{3, false, 1, 2, quorum.VotePending},
		{4, true, 2, 2, quorum.VotePending},
		{5, true, 3, 2, quorum.VoteWon},
	}
	for i, s := range steps {
		tr.RecordVote(s.id, s.vote)
		g, r, res := tr.TallyVotes()
		if g != s.granted || r != s.rejected || res != s.result {
			t.Fatalf("step %d (%d votes %v): %d granted, %d rejected, %s; want %d, %d, %s",
				i, s.id, s.vote, g, r, res, s.granted, s.rejected, s.result)
		}
	}
	tr.ResetVotes()
	if g, r, res := tr.TallyVotes(); g != 0 || r != 0 || res != quorum.VotePending {
		t.Fatalf("after ResetVotes: %d, %d, %s", g, r, res)
	}
	tr.RecordVote(2, true)
	if !tr.Votes[2] {
		t.Error("vote lost after ResetVotes")
	}

	// Joint: a rejection majority of the outgoing half loses the election.
	j := tracker([]uint64{1, 2, 3}, []uint64{3, 4, 5}, nil, nil)
	for id, v := range map[uint64]bool{1: true, 2: true, 4: false, 5: false} {
		j.RecordVote(id, v)
	}
	if g, r, res := j.TallyVotes(); g != 2 || r != 2 || res != quorum.VoteLost {
		t.Errorf("joint: %d granted, %d rejected, %s; want 2, 2, VoteLost", g, r, res)
	}
}

func TestTrackerQuorumActive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, out  []uint64
		learners []uint64
		active   []uint64
		want     bool
	}{
		{"majority active", []uint64{1, 2, 3}, nil, nil, []uint64{1, 3}, true},
		{"minority active", []uint64{1, 2, 3}, nil, nil, []uint64{1}, false},
		{"active learners do not help", []uint64{1, 2, 3}, nil, []uint64{4, 5}, []uint64{1, 4, 5}, false},
		{"joint: both halves", []uint64{1, 2, 3}, []uint64{3, 4, 5}, nil, []uint64{1, 3, 4}, true},
		{"joint: outgoing inactive", []uint64{1, 2, 3}, []uint64{3, 4, 5}, nil, []uint64{1, 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tracker(tc.in, tc.out, tc.learners, nil)
			for _, id := range tc.active {
				tr.Progress[id].RecentActive = true
			}
			if got := tr.QuorumActive(); got != tc.want {
				t.Errorf("QuorumActive() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrackerConfState(t *testing.T) {
	tr := tracker([]uint64{5, 1, 3}, []uint64{3, 1, 2}, []uint64{9, 7}, nil)
	tr.LearnersNext = set(2)
	tr.AutoLeave = true
	want := &raftpb.ConfState{Voters: []uint64{1, 3, 5}, VotersOutgoing: []uint64{1, 2, 3},
		Learners: []uint64{7, 9}, LearnersNext: []uint64{2}, AutoLeave: true}
	if got := tr.ConfState(); !proto.Equal(got, want) {
		t.Errorf("ConfState() = %v, want %v", got, want)
	}
	if got, want := tr.Config.String(), "voters=(1 3 5)&&(1 2 3) learners=(7 9) learners_next=(2) autoleave"; got != want {
		t.Errorf("Config.String() = %q, want %q", got, want)
	}
	if got := tr.VoterNodes(); !slices.Equal(got, []uint64{1, 2, 3, 5}) {
		t.Errorf("VoterNodes() = %v", got)
	}
	if got := tr.LearnerNodes(); !slices.Equal(got, []uint64{7, 9}) {
		t.Errorf("LearnerNodes() = %v", got)
	}
	if tr.IsSingleton() {
		t.Error("joint config reported as singleton")
	}
	if !tracker([]uint64{4}, nil, []uint64{5}, nil).IsSingleton() {
		t.Error("one voter plus a learner is a singleton")
	}
	if tracker([]uint64{4}, []uint64{5}, nil, nil).IsSingleton() {
		t.Error("joint config with one voter per half reported as singleton")
	}
}

func TestConfigClone(t *testing.T) {
	c := Config{Voters: quorum.JointConfig{set(1, 2), set(2, 3)}, Learners: set(4), LearnersNext: set(3), AutoLeave: true}
	cl := c.Clone()
	if cl.String() != c.String() {
		t.Fatalf("clone %s differs from %s", cl, c)
	}
	cl.Voters[0][9] = struct{}{}
	cl.Voters[1][9] = struct{}{}
	cl.Learners[9] = struct{}{}
	cl.LearnersNext[9] = struct{}{}
	if got := c.String(); got != "voters=(1 2)&&(2 3) learners=(4) learners_next=(3) autoleave" {
		t.Errorf("original changed through its clone: %s", got)
	}
	if e := (Config{}).Clone(); e.Learners != nil || e.Voters[0] != nil {
		t.Error("clone of an empty config allocated sets")
	}
}
