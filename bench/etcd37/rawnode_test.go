package etcd37

import (
	"fmt"
	"testing"

	"github.com/seed901663da/raft/bench/benchkit"
)

// BenchmarkRawNode measures propose→commit throughput through RawNode with
// every node in one goroutine (workloads 1 and 2). Each round proposes
// batch entries of [benchkit.PayloadSize] bytes on the leader, then
// handles Readys and delivers messages until the cluster is idle, so every
// proposal of the round is committed and applied everywhere before the
// next round.
// b.N counts entries.
func BenchmarkRawNode(b *testing.B) {
	for _, voters := range []int{1, 3} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("voters=%d/batch=%d", voters, batch), func(b *testing.B) {
				benchRawNode(b, voters, batch)
			})
		}
	}
}

func benchRawNode(b *testing.B, voters, batch int) {
	c := newCluster(b, voters)
	c.elect()
	base := c.applied
	data := make([]byte, benchkit.PayloadSize)
	m := benchkit.StartMeter(b)
	for proposed := 0; proposed < b.N; {
		k := min(batch, b.N-proposed)
		for range k {
			if err := c.nodes[0].Propose(data); err != nil {
				b.Fatal(err)
			}
		}
		proposed += k
		c.pump()
	}
	n := c.applied - base
	m.Report(n, "entry", "entries")
	if n != b.N {
		b.Fatalf("applied %d entries, proposed %d", n, b.N)
	}
}
