package sim

import (
	"bytes"
	"strings"
	"testing"
)

func runSeed(t *testing.T, o Options) Result {
	t.Helper()
	res, err := RunSeed(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSeeds runs a small range of seeds per cluster size with every fault
// on; none may report a violation. (CI runs a wider range through
// cmd/raftsim, and the package documentation gives a soak.)
func TestSeeds(t *testing.T) {
	seeds := uint64(12)
	if testing.Short() {
		seeds = 3
	}
	for _, nodes := range []int{3, 5, 7} {
		for seed := uint64(1); seed <= seeds; seed++ {
			o := Options{Seed: seed, Nodes: nodes, Faults: AllFaults, Duration: 10_000}
			res := runSeed(t, o)
			if res.Violation != nil {
				t.Errorf("%s", Describe(o, res))
			}
			if res.OpsChecked == 0 {
				t.Errorf("nodes=%d seed=%d: no client operation was checked", nodes, seed)
			}
		}
	}
}

// TestDeterministic runs seeds twice and compares the trace hashes, and
// checks that different seeds give different traces.
func TestDeterministic(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(1); seed <= 4; seed++ {
		o := Options{Seed: seed, Nodes: 5, Faults: AllFaults, Duration: 5_000}
		a, b := runSeed(t, o), runSeed(t, o)
		if a.TraceHash != b.TraceHash || a.Events != b.Events {
			t.Errorf("seed %d: two runs differ: hash %x/%x, events %d/%d", seed, a.TraceHash, b.TraceHash, a.Events, b.Events)
		}
		if other, ok := seen[a.TraceHash]; ok {
			t.Errorf("seeds %d and %d have the same trace hash", other, seed)
		}
		seen[a.TraceHash] = seed
	}
}

// TestTraceJSON checks that a run writes one JSON object per event, and
// that writing the trace does not change the run.
func TestTraceJSON(t *testing.T) {
	var buf bytes.Buffer
	o := Options{Seed: 7, Nodes: 3, Faults: AllFaults, Duration: 2_000}
	plain := runSeed(t, o)
	o.Trace = &buf
	traced := runSeed(t, o)
	if plain.TraceHash != traced.TraceHash {
		t.Fatalf("tracing changed the run: %x vs %x", plain.TraceHash, traced.TraceHash)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if int64(len(lines)) < traced.Events {
		t.Fatalf("%d trace lines for %d events", len(lines), traced.Events)
	}
	if !strings.HasPrefix(lines[0], `{"step":1,`) {
		t.Fatalf("first trace line is %q", lines[0])
	}
}

// TestKeepNone runs a seed without its fault schedule: clients only.
func TestKeepNone(t *testing.T) {
	keep, err := ParseKeep("none")
	if err != nil {
		t.Fatal(err)
	}
	res := runSeed(t, Options{Seed: 3, Nodes: 3, Faults: AllFaults, Keep: keep, Duration: 3_000})
	if res.Violation != nil || len(res.Schedule) != 0 {
		t.Fatalf("violation %v, schedule of %d", res.Violation, len(res.Schedule))
	}
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("all,-lease")
	if err != nil || f.Has(FaultLease) || !f.Has(FaultCrash) {
		t.Fatalf("all,-lease: %v %v", f, err)
	}
	if _, err := ParseFaults("crash,bogus"); err == nil {
		t.Fatal("unknown fault accepted")
	}
	if f, _ := ParseFaults(AllFaults.String()); f != AllFaults {
		t.Fatalf("String does not round-trip: %v", f)
	}
	if err := (Options{Nodes: 4}).Validate(); err == nil {
		t.Fatal("4 nodes accepted")
	}
}

// TestDeadlockDetected hangs two of three nodes (up and connected, but
// processing nothing) and expects the monitor to report a deadlock: the
// cluster can commit nothing although the network would let it.
func TestDeadlockDetected(t *testing.T) {
	s, err := New(Options{Seed: 1, Nodes: 3, Duration: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	s.hangAt, s.hang = 5_000, []bool{true, true, false}
	res := s.Run()
	if res.Violation == nil || res.Violation.Kind != KindDeadlock {
		t.Fatalf("want a deadlock, got %v", res.Violation)
	}
	if at := res.Violation.At; at < 5_000+stallWindow || at > 5_000+stallWindow+2*monitorEvery+2*electionTick*tickMS {
		t.Fatalf("deadlock reported at t=%d, want soon after %d", at, 5_000+stallWindow)
	}
}

// TestLivenessFailureDetected hangs a majority for good, across the heal
// phase, and expects the liveness check to fail.
func TestLivenessFailureDetected(t *testing.T) {
	s, err := New(Options{Seed: 1, Nodes: 3, Duration: 2_000})
	if err != nil {
		t.Fatal(err)
	}
	s.hangAt, s.hang = 1_500, []bool{true, true, false}
	res := s.Run()
	if res.Violation == nil || res.Violation.Kind != KindLiveness {
		t.Fatalf("want a liveness failure, got %v", res.Violation)
	}
}

// TestPendingConfChangeDetected runs nodes that do not refuse a conf change
// while another is unapplied (DisableConfChangeValidation) and expects the
// checker to report the second one.
func TestPendingConfChangeDetected(t *testing.T) {
	f, _ := ParseFaults("conf")
	for seed := uint64(1); seed <= 50; seed++ {
		s, err := New(Options{Seed: seed, Nodes: 3, Faults: f, Duration: 10_000, NoLinearizability: true})
		if err != nil {
			t.Fatal(err)
		}
		s.noConfValidation = true
		if res := s.Run(); res.Violation != nil {
			if res.Violation.Kind != KindPendingConfChange {
				t.Fatalf("seed %d: want %s, got %v", seed, KindPendingConfChange, res.Violation)
			}
			t.Logf("seed %d: %v", seed, res.Violation)
			return
		}
	}
	t.Fatal("no pending conf change reported in 50 seeds")
}
