//go:build raftmutation

package sim

import (
	"slices"
	"strings"
	"testing"

	"github.com/seed901663da/raft"
)

// Each mutation switches on one deliberate bug; the simulator must report
// a violation within a bounded number of seeds, or its checkers are not
// doing their job. The bounds leave a wide margin over what the current
// seeds need (noted per case), so that unrelated changes to the
// simulator do not make these tests flaky; they stay deterministic.
func TestMutationsAreCaught(t *testing.T) {
	const maxSeeds = 100
	cases := []struct {
		name string
		// mutate is the switch of the bug.
		mutate *bool
		opts   Options
		// kinds, if set, are the violations that count as catching it.
		kinds []string
		// skipDurable turns off the disk check at restart, to prove the
		// protocol-level checks catch a lying disk too.
		skipDurable bool
	}{
		{
			name:   "vote ignores log",
			mutate: &raft.Mutations.VoteIgnoresLog,
			opts:   Options{Nodes: 3, Faults: AllFaults},
			kinds:  safetyKinds,
		},
		{
			name:   "commit counts old term",
			mutate: &raft.Mutations.CommitCountsOldTerm,
			// The commit rule check sees it as soon as a leader counts an
			// old entry. Its consequence, a committed entry overwritten
			// (Figure 8), needs three leaders in a row to fail at just the
			// wrong moments and shows up in about one seed in a thousand.
			opts:  Options{Nodes: 5, Faults: AllFaults},
			kinds: safetyKinds,
		},
		{
			name:   "disk loses acknowledged writes",
			mutate: &Mutations.DiskLosesWrites,
			opts:   Options{Nodes: 3, Faults: AllFaults},
		},
		{
			name:        "disk loses acknowledged writes, protocol checks only",
			mutate:      &Mutations.DiskLosesWrites,
			opts:        Options{Nodes: 3, Faults: AllFaults},
			skipDurable: true,
			kinds:       safetyKinds,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			*c.mutate = true
			defer func() { *c.mutate = false }()
			for seed := uint64(1); seed <= maxSeeds; seed++ {
				o := c.opts
				o.Seed = seed
				s, err := New(o)
				if err != nil {
					t.Fatal(err)
				}
				s.skipDurableCheck = c.skipDurable
				res := s.Run()
				if v := res.Violation; v != nil && (c.kinds == nil || slices.Contains(c.kinds, v.Kind)) {
					t.Logf("caught at seed %d: %s", seed, v)
					return
				}
			}
			t.Fatalf("not caught within %d seeds", maxSeeds)
		})
	}
}

// safetyKinds are the violations of Raft's safety properties, as
// opposed to a library panic or a liveness failure.
var safetyKinds = []string{KindElectionSafety, KindLogMatching, KindLeaderCompleteness,
	KindStateMachineSafety, KindCommittedLost, KindLinearizability, KindCommitRule}

// TestShrink checks that shrinking keeps a failure and makes its fault
// schedule smaller, and that the replay command reproduces it.
func TestShrink(t *testing.T) {
	raft.Mutations.VoteIgnoresLog = true
	defer func() { raft.Mutations.VoteIgnoresLog = false }()
	o := Options{Seed: 1, Nodes: 3, Faults: AllFaults, NoLinearizability: true}
	res, err := RunSeed(o)
	if err != nil || res.Violation == nil {
		t.Fatalf("seed 1 should fail with the mutation: %v %v", err, res.Violation)
	}
	so, sres := Shrink(o, res, 100)
	if sres.Violation == nil || sres.Violation.Kind != res.Violation.Kind {
		t.Fatalf("shrunk run lost the violation: %v", sres.Violation)
	}
	if len(so.Keep) >= len(res.Schedule) {
		t.Fatalf("schedule not shrunk: %d of %d entries", len(so.Keep), len(res.Schedule))
	}
	again, _ := RunSeed(so)
	if again.TraceHash != sres.TraceHash {
		t.Fatalf("replaying the shrunk options differs")
	}
	if cmd := ReplayCommand(so); !strings.Contains(cmd, "-keep ") {
		t.Fatalf("replay command without -keep: %s", cmd)
	}
	t.Logf("shrunk %d -> %d entries: %s", len(res.Schedule), len(so.Keep), ReplayCommand(so))
}
