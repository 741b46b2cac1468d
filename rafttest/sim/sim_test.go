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
