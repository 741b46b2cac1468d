package quorum

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMajorityConfig_CommittedIndex measures the leader's per-ack commit
// computation for every cluster size from 1 to 11 voters; sizes above
// stackVoters show the cost of the heap fallback.
func BenchmarkMajorityConfig_CommittedIndex(b *testing.B) {
	for n := 1; n <= 11; n++ {
		b.Run(fmt.Sprintf("voters=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(uint64(n), 0))
			c := MajorityConfig{}
			acks := MapAckIndexer{}
			for id := uint64(1); id <= uint64(n); id++ {
				c[id] = struct{}{}
				acks[id] = Index(r.Uint64N(1000))
			}
			var l AckedIndexer = acks
			b.ReportAllocs()
			var sink Index
			for b.Loop() {
				sink = c.CommittedIndex(l)
			}
			_ = sink
		})
	}
}
