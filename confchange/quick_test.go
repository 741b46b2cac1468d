package confchange

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// model is the naive meaning of a list of changes: two sets, updated one
// change at a time.
type model struct {
	voters, learners quorum.MajorityConfig
}

func (m model) apply(c *raftpb.ConfChangeSingle) {
	if c.NodeId == 0 {
		return
	}
	switch c.Type {
	case raftpb.ConfChangeAddNode:
		m.voters[c.NodeId] = struct{}{}
		delete(m.learners, c.NodeId)
	case raftpb.ConfChangeAddLearnerNode:
		delete(m.voters, c.NodeId)
		m.learners[c.NodeId] = struct{}{}
	case raftpb.ConfChangeRemoveNode:
		delete(m.voters, c.NodeId)
		delete(m.learners, c.NodeId)
	}
}

// randomCase returns a random simple configuration over IDs 1..maxID and a
// random list of changes (node 0 included) that never leaves it without
// voters after any prefix, so that it can also be applied one change at a
// time.
func randomCase(r *rand.Rand) (*raftpb.ConfState, []*raftpb.ConfChangeSingle) {
	const maxID = 7
	cs := &raftpb.ConfState{}
	m := model{quorum.MajorityConfig{}, quorum.MajorityConfig{}}
	for id := uint64(1); id <= maxID; id++ {
		switch r.IntN(3) {
		case 0:
			cs.Voters = append(cs.Voters, id)
			m.voters[id] = struct{}{}
		case 1:
			cs.Learners = append(cs.Learners, id)
		}
	}
	if len(cs.Voters) == 0 {
		cs.Voters = []uint64{maxID + 1}
		m.voters[maxID+1] = struct{}{}
	}
	var ccs []*raftpb.ConfChangeSingle
	for len(ccs) < 1+r.IntN(10) {
		c := cc(raftpb.ConfChangeType(r.IntN(4)), uint64(r.IntN(maxID+1)))
		_, voter := m.voters[c.NodeId]
		removesVoter := c.Type == raftpb.ConfChangeAddLearnerNode || c.Type == raftpb.ConfChangeRemoveNode
		if voter && removesVoter && len(m.voters) == 1 {
			continue
		}
		m.apply(c)
		ccs = append(ccs, c)
	}
	return cs, ccs
}

// TestQuickSimpleVersusJoint applies random changes to random configurations
// twice, one change at a time with Simple and all at once with EnterJoint and
// LeaveJoint, and checks that both reach the configuration the naive model
// predicts, that the joint configuration in between has the expected halves
// and learners, that Restore reproduces every configuration from its
// ConfState, and that no call modifies the tracker it was given.
//
// Progress is compared by node set and learner flag only: the two paths may
// legitimately differ in which Progress a node keeps (a voter removed and
// re-added keeps its Progress while joint, but gets a fresh one through
// simple steps).
func TestQuickSimpleVersusJoint(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		cs, ccs := randomCase(r)
		start := mustRestore(t, cs)
		autoLeave := r.IntN(2) == 0

		// Expected results from the naive model.
		want := model{set(cs.Voters), set(cs.Learners)}
		for _, c := range ccs {
			want.apply(c)
		}
		wantJoint := &raftpb.ConfState{
			Voters:         want.voters.Slice(),
			VotersOutgoing: cs.Voters,
			AutoLeave:      autoLeave,
		}
		for _, id := range want.learners.Slice() {
			if _, outgoing := start.Voters[0][id]; outgoing {
				wantJoint.LearnersNext = append(wantJoint.LearnersNext, id)
			} else {
				wantJoint.Learners = append(wantJoint.Learners, id)
			}
		}
		wantFinal := &raftpb.ConfState{Voters: want.voters.Slice(), Learners: want.learners.Slice()}

		// One change at a time.
		viaSimple := start
		for _, c := range ccs {
			viaSimple = step(t, i, viaSimple, func(ch Changer) (progress.Config, progress.ProgressMap, error) {
				return ch.Simple(c)
			})
		}
		// All at once.
		joint := step(t, i, start, func(ch Changer) (progress.Config, progress.ProgressMap, error) {
			return ch.EnterJoint(autoLeave, ccs...)
		})
		viaJoint := step(t, i, joint, Changer.LeaveJoint)

		if err := sameConfig(joint.Config, wantJoint); err != nil {
			t.Fatalf("case %d: %v %s: joint config %s: %v", i, cs, raftpb.ConfChangesToString(ccs), joint.Config, err)
		}
		for _, got := range []progress.Tracker{viaSimple, viaJoint} {
			if err := sameConfig(got.Config, wantFinal); err != nil {
				t.Fatalf("case %d: %v %s: got %s: %v", i, cs, raftpb.ConfChangesToString(ccs), got.Config, err)
			}
		}
		if !reflect.DeepEqual(viaSimple.Config, viaJoint.Config) {
			t.Fatalf("case %d: simple steps gave %#v, joint %#v", i, viaSimple.Config, viaJoint.Config)
		}
		if a, b := learnerFlags(viaSimple.Progress), learnerFlags(viaJoint.Progress); !reflect.DeepEqual(a, b) {
			t.Fatalf("case %d: simple steps gave progress %v, joint %v", i, a, b)
		}
		for _, tr := range []progress.Tracker{joint, viaJoint} {
			restored := mustRestore(t, tr.ConfState())
			if !reflect.DeepEqual(restored.Config, tr.Config) {
				t.Fatalf("case %d: Restore(%v) gave %s, want %s", i, tr.ConfState(), restored.Config, tr.Config)
			}
		}
	}
}

// step applies f to a Changer over tr and returns the resulting tracker,
// failing the test on an error or if tr was modified.
func step(t *testing.T, i int, tr progress.Tracker, f func(Changer) (progress.Config, progress.ProgressMap, error)) progress.Tracker {
	t.Helper()
	before := snapshotTracker(tr)
	cfg, prs, err := f(Changer{Tracker: tr, LastIndex: 10})
	if err != nil {
		t.Fatalf("case %d: %s: %v", i, tr.Config, err)
	}
	if diff := diffTracker(before, snapshotTracker(tr)); diff != "" {
		t.Fatalf("case %d: tracker modified: %s", i, diff)
	}
	if err := checkInvariants(cfg, prs); err != nil {
		t.Fatalf("case %d: %v", i, err)
	}
	tr.Config, tr.Progress = cfg, prs
	return tr
}

func learnerFlags(prs progress.ProgressMap) map[uint64]bool {
	m := make(map[uint64]bool, len(prs))
	for id, pr := range prs {
		m[id] = pr.IsLearner
	}
	return m
}
