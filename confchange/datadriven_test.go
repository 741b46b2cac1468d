package confchange

import (
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// TestDataDriven runs the scripts in testdata/. Each file starts from an
// empty tracker; a successful command replaces it with the result, a failed
// one prints the error and leaves it alone. Commands:
//
//	simple                     apply the changes on the input lines
//	enter-joint [autoleave=true]
//	leave-joint
//	restore [voters=(1,2)] [outgoing=(1,3)] [learners=(4)] [next=(3)] [autoleave=true]
//	    replace the tracker with Restore of that ConfState
//
// Changes are written in raftpb's compact syntax, "v1 l2 r3 u4": make 1 a
// voter, make 2 a learner, remove 3, update 4. Every command advances LastIndex by one before it
// runs, so a Progress created by the n-th command has next=n, and the
// output shows which Progress a promoted or demoted node kept.
//
// Output is the config and then one line per Progress; each result is also
// checked against the invariants and against Restore (restoring a config's
// ConfState must give an equivalent ConfState back), and the input tracker
// is checked to be unmodified.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		tr := progress.MakeTracker(10, 0)
		var lastIndex uint64
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			lastIndex++
			c := Changer{Tracker: tr, LastIndex: lastIndex}
			before := snapshotTracker(c.Tracker)
			var cfg progress.Config
			var prs progress.ProgressMap
			var err error
			switch d.Cmd {
			case "simple":
				cfg, prs, err = c.Simple(parseChanges(t, d)...)
			case "enter-joint":
				autoLeave := false
				if d.HasArg("autoleave") {
					d.ScanArgs(t, "autoleave", &autoLeave)
				}
				cfg, prs, err = c.EnterJoint(autoLeave, parseChanges(t, d)...)
			case "leave-joint":
				if d.Input != "" {
					d.Fatalf(t, "leave-joint takes no changes")
				}
				cfg, prs, err = c.LeaveJoint()
			case "restore":
				cfg, prs, err = Restore(c, parseConfState(t, d))
			default:
				d.Fatalf(t, "unknown command %q", d.Cmd)
			}
			if diff := diffTracker(before, snapshotTracker(c.Tracker)); diff != "" {
				t.Errorf("%s: input tracker modified: %s", d.Pos, diff)
			}
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			tr.Config, tr.Progress = cfg, prs
			checkResult(t, d.Pos, c, tr)
			return describeTracker(tr)
		})
	})
}

// checkResult asserts what must hold of every successful result.
func checkResult(t *testing.T, pos string, c Changer, tr progress.Tracker) {
	t.Helper()
	if err := checkInvariants(tr.Config, tr.Progress); err != nil {
		t.Errorf("%s: %v", pos, err)
	}
	cs := tr.ConfState()
	cfg, prs, err := Restore(c, cs)
	if err != nil {
		t.Errorf("%s: restoring %v: %v", pos, cs, err)
		return
	}
	restored := progress.Tracker{Config: cfg, Progress: prs}
	if err := restored.ConfState().Equivalent(cs); err != nil {
		t.Errorf("%s: restore: %v", pos, err)
	}
}

// describeTracker prints the config and then each Progress in ID order.
func describeTracker(tr progress.Tracker) string {
	return tr.Config.String() + "\n" + tr.Progress.String()
}

// parseChanges reads changes in raftpb's compact syntax ("v1 l2 r3 u4")
// from the input, across any number of lines.
func parseChanges(t *testing.T, d *datadriven.TestData) []*raftpb.ConfChangeSingle {
	ccs, err := raftpb.ConfChangesFromString(d.Input)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return ccs
}

func parseConfState(t *testing.T, d *datadriven.TestData) *raftpb.ConfState {
	cs := &raftpb.ConfState{}
	for _, arg := range d.CmdArgs {
		var dst *[]uint64
		switch arg.Key {
		case "voters":
			dst = &cs.Voters
		case "outgoing":
			dst = &cs.VotersOutgoing
		case "learners":
			dst = &cs.Learners
		case "next":
			dst = &cs.LearnersNext
		case "autoleave":
			d.ScanArgs(t, "autoleave", &cs.AutoLeave)
			continue
		default:
			d.Fatalf(t, "unknown argument %q", arg.Key)
		}
		for _, v := range arg.Vals {
			if v == "" {
				continue // "voters=()"
			}
			id, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				d.Fatalf(t, "bad node ID %q: %v", v, err)
			}
			*dst = append(*dst, id)
		}
	}
	return cs
}
