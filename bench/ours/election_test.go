package ours

import (
	"math/rand/v2"
	"testing"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/bench/benchkit"
)

// BenchmarkElection is a sanity check (workload 5): a fresh 5-node cluster
// is ticked, one tick per node per round with messages delivered at once,
// until a leader emerges. It reports the rounds of ticks and the wall time
// per election; building the cluster is not timed. Each election draws a
// different random seed.
func BenchmarkElection(b *testing.B) {
	const voters = 5
	ticks := 0
	m := benchkit.StartMeter(b)
	for i := 0; i < b.N; i++ {
		m.Pause()
		seed := uint64(i)
		c := newCluster(b, voters, func(id uint64) raft.RandSource {
			return rand.New(rand.NewPCG(seed, id))
		})
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
