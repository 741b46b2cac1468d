package raft

import (
	"context"
	"testing"
	"time"

	"github.com/seed901663da/raft/raftpb"
)

// benchNode runs a single-voter Node with the application's loop in a
// goroutine: persist to a MemoryStorage, wait fsync when the Ready must be
// synced (standing in for the disk), apply, Advance. Every applied
// proposal is announced on applied.
type benchNode struct {
	node    Node
	applied chan struct{}
	quit    chan struct{}
	done    chan struct{}
	// advanced is signalled once the first Ready was advanced.
	advanced chan struct{}
}

func startBenchNode(b *testing.B, fsync time.Duration) *benchNode {
	b.Helper()
	s := NewMemoryStorage()
	n, err := StartNode(testConfig(1, s), []Peer{{ID: 1}})
	if err != nil {
		b.Fatal(err)
	}
	bn := &benchNode{node: n, applied: make(chan struct{}, 1024), quit: make(chan struct{}), done: make(chan struct{}),
		advanced: make(chan struct{}, 1)}
	go bn.loop(b, s, fsync)
	// A node does not campaign while committed conf changes, such as the
	// bootstrap entries, are unapplied: wait for the first Ready.
	<-bn.advanced
	if err := n.Campaign(context.Background()); err != nil {
		b.Fatal(err)
	}
	return bn
}

func (bn *benchNode) loop(b *testing.B, s *MemoryStorage, fsync time.Duration) {
	defer close(bn.done)
	for {
		var rd Ready
		select {
		case rd = <-bn.node.Ready():
		case <-bn.quit:
			return
		}
		if rd.Snapshot != nil {
			if err := s.ApplySnapshot(rd.Snapshot); err != nil {
				b.Error(err)
				return
			}
		}
		if err := s.Append(rd.Entries); err != nil {
			b.Error(err)
			return
		}
		if rd.HardState != nil {
			if err := s.SetHardState(rd.HardState); err != nil {
				b.Error(err)
				return
			}
		}
		if rd.MustSync && fsync > 0 {
			time.Sleep(fsync)
		}
		for _, e := range rd.CommittedEntries {
			switch {
			case e.Type == raftpb.EntryConfChange:
				cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := bn.node.ApplyConfChange(cc); err != nil {
					b.Error(err)
					return
				}
			case len(e.Data) > 0:
				bn.applied <- struct{}{}
			}
		}
		if n := len(rd.CommittedEntries); n > 0 {
			if last := rd.CommittedEntries[n-1].Index; last > 1024 && last%1024 == 0 {
				// Keep memory flat over long runs.
				if err := s.Compact(last - 512); err != nil {
					b.Error(err)
					return
				}
			}
		}
		bn.node.Advance()
		select {
		case bn.advanced <- struct{}{}:
		default:
		}
	}
}

func (bn *benchNode) stop() {
	close(bn.quit)
	bn.node.Stop()
	<-bn.done
}

// BenchmarkNodeProposeCommit proposes through a single-voter Node and
// waits for each proposal to be applied before the next: the latency of
// one write, with an instant disk and with one whose fsync takes 1ms.
func BenchmarkNodeProposeCommit(b *testing.B) {
	for _, fsync := range []time.Duration{0, time.Millisecond} {
		b.Run("fsync="+fsync.String(), func(b *testing.B) {
			bn := startBenchNode(b, fsync)
			defer bn.stop()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := bn.node.Propose(ctx, benchPayload); err != nil {
					b.Fatal(err)
				}
				<-bn.applied
			}
		})
	}
}
