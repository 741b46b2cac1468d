package ours

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/bench/benchkit"
	"github.com/seed901663da/raft/raftpb"
)

// BenchmarkNode measures proposals per second through the Node API on a
// single voter (workload 3), with and without a simulated 1 ms fsync
// (a sleep whenever a Ready says MustSync). Each of the concurrent
// proposers ([benchkit.NodeLoad]) proposes a PayloadSize entry and waits
// until it is applied before proposing the next, so proposals batch up in
// Readys while the node persists. b.N counts proposals. entries/sync is
// proposals per Ready that said MustSync: the batching a real fsync would
// get.
func BenchmarkNode(b *testing.B) {
	for _, fsync := range []time.Duration{0, time.Millisecond} {
		for _, proposers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("fsync=%v/proposers=%d", fsync, proposers), func(b *testing.B) {
				benchNode(b, fsync, proposers)
			})
		}
	}
}

// nodeApp is the application side of a Node: the loop that handles
// Readys and wakes the proposers whose entries were applied.
type nodeApp struct {
	n       raft.Node
	st      *store
	load    *benchkit.NodeLoad
	leader  chan struct{} // closed once the node leads
	done    chan struct{}
	stopped chan struct{}
	err     error
}

func (a *nodeApp) handle(rd raft.Ready) error {
	if rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader && a.leader != nil {
		close(a.leader)
		a.leader = nil
	}
	if err := a.st.persist(rd.HardState, rd.Entries); err != nil {
		return err
	}
	if rd.MustSync {
		a.load.Synced()
	}
	if _, err := a.st.apply(rd.CommittedEntries); err != nil {
		return err
	}
	for _, e := range rd.CommittedEntries {
		if e.Type == raftpb.EntryNormal {
			a.load.Applied(e.Data)
		}
	}
	a.n.Advance()
	return nil
}

func (a *nodeApp) run() {
	defer close(a.stopped)
	for {
		select {
		case rd := <-a.n.Ready():
			if err := a.handle(rd); err != nil {
				a.err = err
				return
			}
		case <-a.done:
			return
		}
	}
}

func benchNode(b *testing.B, fsync time.Duration, proposers int) {
	ctx := context.Background()
	st := &store{ms: raft.NewMemoryStorage()}
	n, err := raft.StartNode(newConfig(1, st.ms), peers(1))
	if err != nil {
		b.Fatal(err)
	}
	a := &nodeApp{
		n: n, st: st, load: benchkit.NewNodeLoad(fsync, proposers),
		leader: make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	leader := a.leader
	// The first Ready carries the bootstrap entries; a node campaigns only
	// once they are applied.
	if err := a.handle(<-n.Ready()); err != nil {
		b.Fatal(err)
	}
	go a.run()
	defer func() {
		close(a.done)
		<-a.stopped
		n.Stop()
	}()
	if err := n.Campaign(ctx); err != nil {
		b.Fatal(err)
	}
	<-leader

	a.load.Run(b, n.Propose)
	if a.err != nil {
		b.Fatal(a.err)
	}
}
