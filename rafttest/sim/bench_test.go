package sim

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkRun measures simulator throughput in events per second on one
// goroutine, for each cluster size, with every fault on and without the
// final linearizability check (porcupine's cost depends on the history,
// not on the simulator).
func BenchmarkRun(b *testing.B) {
	for _, nodes := range []int{3, 5, 7} {
		b.Run("nodes="+strconv.Itoa(nodes), func(b *testing.B) {
			var events int64
			start := time.Now()
			for i := 0; i < b.N; i++ {
				res, err := RunSeed(Options{Seed: uint64(i + 1), Nodes: nodes, Faults: AllFaults, NoLinearizability: true})
				if err != nil {
					b.Fatal(err)
				}
				events += res.Events
			}
			b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
