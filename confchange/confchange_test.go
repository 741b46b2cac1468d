package confchange

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

func cc(typ raftpb.ConfChangeType, id uint64) *raftpb.ConfChangeSingle {
	return &raftpb.ConfChangeSingle{Type: typ, NodeId: id}
}

// mustRestore returns a tracker holding the configuration cs describes.
func mustRestore(t *testing.T, cs *raftpb.ConfState) progress.Tracker {
	t.Helper()
	tr := progress.MakeTracker(8, 1024)
	cfg, prs, err := Restore(Changer{Tracker: tr, LastIndex: 1}, cs)
	if err != nil {
		t.Fatal(err)
	}
	tr.Config, tr.Progress = cfg, prs
	return tr
}

// TestProgressPreserved checks that a node changing role keeps every field of
// its Progress, in a copy: the tracker's own Progress is left as it was.
func TestProgressPreserved(t *testing.T) {
	tr := mustRestore(t, &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}})
	for id, pr := range tr.Progress {
		cp := *pr
		cp.Match, cp.Next, cp.State = 10*id, 10*id+1, progress.StateReplicate
		cp.PendingSnapshot, cp.RecentActive, cp.MsgAppProbesPaused = id, false, true
		tr.Progress[id] = &cp
	}
	before := snapshotTracker(tr)
	cfg, prs, err := Changer{Tracker: tr, LastIndex: 50}.EnterJoint(false,
		cc(raftpb.ConfChangeAddNode, 3), cc(raftpb.ConfChangeAddLearnerNode, 2))
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffTracker(before, snapshotTracker(tr)); diff != "" {
		t.Fatalf("tracker modified: %s", diff)
	}
	// 3 was promoted: a copy with only IsLearner changed.
	want := *tr.Progress[3]
	want.IsLearner = false
	if prs[3] == tr.Progress[3] || !reflect.DeepEqual(*prs[3], want) {
		t.Errorf("promoted 3: got %+v (same pointer %t), want %+v", *prs[3], prs[3] == tr.Progress[3], want)
	}
	// 2 waits in LearnersNext and keeps voting: its Progress is untouched and
	// may be shared; 1 is unchanged.
	for _, id := range []uint64{1, 2} {
		if !reflect.DeepEqual(*prs[id], *tr.Progress[id]) {
			t.Errorf("%d: got %+v, want %+v", id, *prs[id], *tr.Progress[id])
		}
	}
	tr.Config, tr.Progress = cfg, prs
	before = snapshotTracker(tr)
	_, prs, err = Changer{Tracker: tr}.LeaveJoint()
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffTracker(before, snapshotTracker(tr)); diff != "" {
		t.Fatalf("tracker modified by LeaveJoint: %s", diff)
	}
	want = *tr.Progress[2]
	want.IsLearner = true
	if !reflect.DeepEqual(*prs[2], want) || tr.Progress[2].IsLearner {
		t.Errorf("demoted 2: got %+v, want %+v", *prs[2], want)
	}
}

// TestNewProgress checks the Progress of an added node.
func TestNewProgress(t *testing.T) {
	for _, last := range []uint64{0, 1, 77} {
		tr := progress.MakeTracker(4, 100)
		_, prs, err := Changer{Tracker: tr, LastIndex: last}.Simple(cc(raftpb.ConfChangeAddNode, 1))
		if err != nil {
			t.Fatal(err)
		}
		want := progress.Progress{
			Next: max(last, 1), State: progress.StateProbe, RecentActive: true,
			Inflights: progress.NewInflights(4, 100),
		}
		if got := *prs[1]; !reflect.DeepEqual(got, want) {
			t.Errorf("LastIndex %d: got %+v, want %+v", last, got, want)
		}
	}
}

// TestSentinelErrors checks that each refusal matches its sentinel and that
// no input, however malformed, makes a Changer panic.
func TestSentinelErrors(t *testing.T) {
	simple := mustRestore(t, &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}})
	joint := mustRestore(t, &raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{1, 2}})
	empty := progress.MakeTracker(1, 0)
	broken := func(f func(tr *progress.Tracker)) progress.Tracker {
		tr := mustRestore(t, &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}})
		tr.Config = tr.Config.Clone()
		f(&tr)
		return tr
	}
	type call func(Changer) error
	enter := func(ccs ...*raftpb.ConfChangeSingle) call {
		return func(c Changer) error { _, _, err := c.EnterJoint(true, ccs...); return err }
	}
	simpleCall := func(ccs ...*raftpb.ConfChangeSingle) call {
		return func(c Changer) error { _, _, err := c.Simple(ccs...); return err }
	}
	leave := func(c Changer) error { _, _, err := c.LeaveJoint(); return err }

	for _, tc := range []struct {
		name string
		tr   progress.Tracker
		call call
		want error
	}{
		{"enter while joint", joint, enter(), ErrAlreadyJoint},
		{"simple while joint", joint, simpleCall(), ErrAlreadyJoint},
		{"leave when not joint", simple, leave, ErrNotJoint},
		{"enter from empty", empty, enter(cc(raftpb.ConfChangeAddNode, 1)), ErrZeroVoters},
		{"enter without voters", simple, enter(cc(raftpb.ConfChangeRemoveNode, 1), cc(raftpb.ConfChangeRemoveNode, 2)), ErrZeroVoters},
		{"simple without voters", empty, simpleCall(cc(raftpb.ConfChangeAddLearnerNode, 1)), ErrZeroVoters},
		{"two voters", simple, simpleCall(cc(raftpb.ConfChangeAddNode, 3), cc(raftpb.ConfChangeRemoveNode, 1)), ErrMultipleVoterChanges},
		{"nil change", simple, simpleCall(nil), ErrInvalidChange},
		{"nil change joint", simple, enter(cc(raftpb.ConfChangeAddNode, 4), nil), ErrInvalidChange},
		{"unknown type", simple, simpleCall(cc(raftpb.ConfChangeType(42), 4)), ErrInvalidChange},
		{"voter without progress", broken(func(tr *progress.Tracker) {
			tr.Progress = progress.ProgressMap{2: tr.Progress[2], 3: tr.Progress[3]}
		}), simpleCall(), ErrInvariant},
		{"nil progress", broken(func(tr *progress.Tracker) {
			tr.Progress = progress.ProgressMap{1: nil, 2: tr.Progress[2], 3: tr.Progress[3]}
		}), leave, ErrInvariant},
		{"voter and learner", broken(func(tr *progress.Tracker) {
			tr.Learners[1] = struct{}{}
		}), enter(), ErrInvariant},
		{"learners next outside joint", broken(func(tr *progress.Tracker) {
			tr.LearnersNext = map[uint64]struct{}{2: {}}
		}), simpleCall(), ErrInvariant},
		{"auto-leave outside joint", broken(func(tr *progress.Tracker) {
			tr.AutoLeave = true
		}), simpleCall(), ErrInvariant},
		{"stray progress", broken(func(tr *progress.Tracker) {
			prs := progress.ProgressMap{9: {}}
			for id, pr := range tr.Progress {
				prs[id] = pr
			}
			tr.Progress = prs
		}), simpleCall(), ErrInvariant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotTracker(tc.tr)
			err := tc.call(Changer{Tracker: tc.tr, LastIndex: 3})
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if diff := diffTracker(before, snapshotTracker(tc.tr)); diff != "" {
				t.Errorf("tracker modified: %s", diff)
			}
		})
	}
}

// TestRestoreErrors checks that every refusal of Restore matches
// ErrInvalidConfState, and a nil ConfState restores the empty config.
func TestRestoreErrors(t *testing.T) {
	c := Changer{Tracker: progress.MakeTracker(1, 0)}
	cfg, prs, err := Restore(c, nil)
	if err != nil || len(cfg.Voters.IDs()) != 0 || len(prs) != 0 {
		t.Errorf("Restore(nil) = %v, %v, %v; want the empty config", cfg, prs, err)
	}
	for _, cs := range []*raftpb.ConfState{
		{Learners: []uint64{1}},
		{AutoLeave: true},
		{Voters: []uint64{1}, Learners: []uint64{1}},
		{Voters: []uint64{1}, VotersOutgoing: []uint64{2}, LearnersNext: []uint64{3}},
		{Voters: []uint64{0}},
	} {
		_, _, err := Restore(c, cs)
		if !errors.Is(err, ErrInvalidConfState) {
			t.Errorf("Restore(%v): got %v, want ErrInvalidConfState", cs, err)
		}
	}
	_, _, err = Restore(c, &raftpb.ConfState{LearnersNext: []uint64{1}})
	if !errors.Is(err, ErrZeroVoters) {
		t.Errorf("got %v, want ErrZeroVoters as well", err)
	}
}

// FuzzRestore feeds Restore arbitrary ConfStates over a small ID space: it
// must never panic, and whatever it accepts must satisfy the invariants and
// round-trip through ConfState.
func FuzzRestore(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{}, []byte{4}, []byte{}, false)
	f.Add([]byte{1, 2}, []byte{1, 3}, []byte{4}, []byte{3}, true)
	f.Add([]byte{}, []byte{1}, []byte{}, []byte{1}, true)
	f.Add([]byte{0, 1}, []byte{1}, []byte{1}, []byte{2}, false)
	ids := func(b []byte) []uint64 {
		var s []uint64
		for _, x := range b {
			s = append(s, uint64(x%8))
		}
		return s
	}
	f.Fuzz(func(t *testing.T, voters, outgoing, learners, next []byte, autoLeave bool) {
		cs := &raftpb.ConfState{
			Voters: ids(voters), VotersOutgoing: ids(outgoing),
			Learners: ids(learners), LearnersNext: ids(next), AutoLeave: autoLeave,
		}
		tr := progress.MakeTracker(2, 0)
		cfg, prs, err := Restore(Changer{Tracker: tr, LastIndex: 5}, cs)
		if err != nil {
			return
		}
		if err := checkInvariants(cfg, prs); err != nil {
			t.Fatalf("Restore(%v): %v", cs, err)
		}
		tr.Config, tr.Progress = cfg, prs
		if err := sameConfig(cfg, tr.ConfState()); err != nil {
			t.Fatalf("Restore(%v) gave %s: %v", cs, cfg, err)
		}
		if err := sameConfig(cfg, cs); err != nil {
			t.Fatalf("Restore(%v) gave %s: %v", cs, cfg, err)
		}
	})
}

func BenchmarkChanger(b *testing.B) {
	for _, n := range []int{3, 5, 7} {
		voters := make([]uint64, n)
		for i := range voters {
			voters[i] = uint64(i + 1)
		}
		tr := progress.MakeTracker(256, 0)
		cfg, prs, err := Restore(Changer{Tracker: tr, LastIndex: 1}, &raftpb.ConfState{Voters: voters})
		if err != nil {
			b.Fatal(err)
		}
		tr.Config, tr.Progress = cfg, prs
		c := Changer{Tracker: tr, LastIndex: 100}
		b.Run(fmt.Sprintf("simple/voters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Simple(cc(raftpb.ConfChangeAddLearnerNode, 100)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("joint/voters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cfg, prs, err := c.EnterJoint(true, cc(raftpb.ConfChangeRemoveNode, 1), cc(raftpb.ConfChangeAddNode, 100))
				if err != nil {
					b.Fatal(err)
				}
				j := Changer{Tracker: tr, LastIndex: 100}
				j.Tracker.Config, j.Tracker.Progress = cfg, prs
				if _, _, err := j.LeaveJoint(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNodeZeroIgnored checks that changes for node 0, which the compact text
// syntax of the scripts cannot express, leave the configuration alone.
func TestNodeZeroIgnored(t *testing.T) {
	tr := mustRestore(t, &raftpb.ConfState{Voters: []uint64{1}, Learners: []uint64{2}})
	zero := []*raftpb.ConfChangeSingle{
		cc(raftpb.ConfChangeAddNode, 0), cc(raftpb.ConfChangeAddLearnerNode, 0),
		cc(raftpb.ConfChangeRemoveNode, 0), cc(raftpb.ConfChangeUpdateNode, 0),
	}
	c := Changer{Tracker: tr, LastIndex: 9}
	cfg, prs, err := c.Simple(zero...)
	if err != nil || !reflect.DeepEqual(cfg, tr.Config) || !reflect.DeepEqual(prs, tr.Progress) {
		t.Errorf("Simple: got %s %v %v, want %s unchanged", cfg, prs, err, tr.Config)
	}
	cfg, prs, err = c.EnterJoint(false, zero...)
	if err != nil || cfg.String() != "voters=(1)&&(1) learners=(2)" || !reflect.DeepEqual(prs, tr.Progress) {
		t.Errorf("EnterJoint: got %s %v %v", cfg, prs, err)
	}
	// Removing the last voter alongside a change for node 0 still fails.
	if _, _, err := c.Simple(cc(raftpb.ConfChangeRemoveNode, 1), cc(raftpb.ConfChangeAddNode, 0)); !errors.Is(err, ErrZeroVoters) {
		t.Errorf("got %v, want ErrZeroVoters", err)
	}
}
