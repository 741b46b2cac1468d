package etcd37

import (
	"testing"

	"github.com/seed901663da/raft/bench/benchkit"
)

// BenchmarkElection is a sanity check (workload 5): a fresh 5-node cluster
// is ticked, one tick per node per round with messages delivered at once,
// until a leader emerges. It reports the rounds of ticks and the wall time
// per election; building the cluster is not timed. etcd draws timeouts
// from its global random source.
func BenchmarkElection(b *testing.B) {
	const voters = 5
	ticks := 0
	m := benchkit.StartMeter(b)
	for i := 0; i < b.N; i++ {
		m.Pause()
		c := newCluster(b, voters)
		m.Resume()
		for c.leader == 0 {
			c.tick()
			ticks++
			c.pump()
		}
	}
	m.Report(b.N, "election", "elections")
	b.ReportMetric(float64(ticks)/float64(b.N), "ticks/election")
}
