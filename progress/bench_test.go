package progress

import (
	"fmt"
	"testing"
)

// BenchmarkInflights measures the steady state of replication to one peer:
// sending a message and freeing it on acknowledgement, with the window
// half full.
func BenchmarkInflights(b *testing.B) {
	in := NewInflights(256, 1<<20)
	idx := uint64(0)
	for range 128 {
		idx++
		in.Add(idx, 1024)
	}
	b.ReportAllocs()
	for b.Loop() {
		idx++
		in.Add(idx, 1024)
		in.FreeLE(idx - 128)
	}
}

// BenchmarkTrackerCommitted measures the commit computation the leader runs
// on every append acknowledgement, for 1 to 11 voters.
func BenchmarkTrackerCommitted(b *testing.B) {
	for n := 1; n <= 11; n++ {
		b.Run(fmt.Sprintf("voters=%d", n), func(b *testing.B) {
			var ids []uint64
			match := map[uint64]uint64{}
			for i := 1; i <= n; i++ {
				ids = append(ids, uint64(i))
				match[uint64(i)] = uint64(1000 + (i*7919)%97)
			}
			tr := tracker(ids, nil, nil, match)
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				sink += tr.Committed()
			}
			_ = sink
		})
	}
}

// BenchmarkTrackerVisit measures an ordered visit of 1 to 11 peers, as done
// for every broadcast.
func BenchmarkTrackerVisit(b *testing.B) {
	for n := 1; n <= 11; n++ {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			var ids []uint64
			for i := 1; i <= n; i++ {
				ids = append(ids, uint64(i))
			}
			tr := tracker(ids, nil, nil, nil)
			var sum uint64
			f := func(id uint64, pr *Progress) { sum += pr.Match }
			b.ReportAllocs()
			for b.Loop() {
				tr.Visit(f)
			}
		})
	}
}
