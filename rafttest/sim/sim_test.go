package sim

import (
	"testing"
)

func runSeed(t *testing.T, o Options) Result {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s.Run()
}

func TestSmoke(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		res := runSeed(t, Options{Seed: seed, Nodes: 3, Faults: AllFaults})
		if res.Violation != nil {
			t.Errorf("seed %d: %s\n%s", seed, res.Violation, joinTail(res.Violation.Tail))
		}
		t.Logf("seed %d: events=%d ops=%d async=%v lease=%v", seed, res.Events, res.OpsChecked, res.Async, res.Lease)
	}
}
