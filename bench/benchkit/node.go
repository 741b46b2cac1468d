package benchkit

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// NodeLoad is the proposer side of the Node workload (workload 3), the
// same for every implementation. Each of its proposers proposes a
// PayloadSize entry whose first 8 bytes name the proposer, and waits
// until the application reports it applied before proposing the next.
// The adapter's Ready loop calls Synced for every Ready that says
// MustSync and Applied for every normal committed entry.
type NodeLoad struct {
	fsync   time.Duration
	waiters []chan struct{} // by proposer, from the payload's first 8 bytes
	// syncs counts the Readys that said MustSync: with a simulated
	// fsync, each costs one, so proposals per sync is the batching.
	syncs atomic.Int64
}

// NewNodeLoad returns the load of the given number of proposers, whose
// application sleeps fsync for each Ready that says MustSync.
func NewNodeLoad(fsync time.Duration, proposers int) *NodeLoad {
	l := &NodeLoad{fsync: fsync}
	for range proposers {
		l.waiters = append(l.waiters, make(chan struct{}, 1))
	}
	return l
}

// Synced counts a Ready that said MustSync and simulates its fsync.
func (l *NodeLoad) Synced() {
	l.syncs.Add(1)
	if l.fsync > 0 {
		time.Sleep(l.fsync)
	}
}

// Applied wakes the proposer of a committed normal entry's data, if it
// is one of the load's proposals.
func (l *NodeLoad) Applied(data []byte) {
	if len(data) == PayloadSize {
		l.waiters[binary.LittleEndian.Uint64(data)] <- struct{}{}
	}
}

// Run measures b.N proposals made through propose by the concurrent
// proposers, on a node that already leads and whose Ready loop runs, and
// reports them per entry along with entries/sync.
func (l *NodeLoad) Run(b *testing.B, propose func(context.Context, []byte) error) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(l.waiters))
	l.syncs.Store(0)
	m := StartMeter(b)
	for p := range l.waiters {
		data := make([]byte, PayloadSize)
		binary.LittleEndian.PutUint64(data, uint64(p))
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := propose(ctx, data); err != nil {
					errs <- err
					return
				}
				<-l.waiters[p]
			}
		})
	}
	wg.Wait()
	syncs := l.syncs.Load()
	m.Report(b.N, "entry", "entries")
	if syncs > 0 {
		b.ReportMetric(float64(b.N)/float64(syncs), "entries/sync")
	}
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
