package raft

import (
	"fmt"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// Benchmarks of the RawNode hot paths. Every one reports allocations; run
// them with
//
//	go test -run '^$' -bench 'RawNode|Follower' -count 5 .
//
// and compare medians. ns/op is per proposal, message or call as each
// benchmark says.

// benchPayload is the data of every proposal: a small command, as a
// key-value store would propose.
var benchPayload = make([]byte, 128)

// benchCluster is a minimal in-process cluster for benchmarks: no
// recording, no checks, just the documented loop.
type benchCluster struct {
	nodes    []*RawNode
	storages []*MemoryStorage
	queue    []*raftpb.Message
	next     []*raftpb.Message
}

func newBenchCluster(b *testing.B, voters int) *benchCluster {
	b.Helper()
	c := &benchCluster{}
	var peers []Peer
	for id := 1; id <= voters; id++ {
		peers = append(peers, Peer{ID: uint64(id)})
	}
	for _, p := range peers {
		s := NewMemoryStorage()
		cfg := testConfig(p.ID, s)
		cfg.MaxSizePerMsg = 1 << 20
		rn, err := NewRawNode(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := rn.Bootstrap(peers); err != nil {
			b.Fatal(err)
		}
		c.nodes = append(c.nodes, rn)
		c.storages = append(c.storages, s)
	}
	c.settle(b)
	if err := c.nodes[0].Campaign(); err != nil {
		b.Fatal(err)
	}
	c.settle(b)
	if c.nodes[0].raft.state != StateLeader {
		b.Fatal("node 1 did not become leader")
	}
	return c
}

// ready runs one Ready/Advance cycle of node i: persist, queue messages,
// apply (conf changes only; the state machine is empty), advance.
func (c *benchCluster) ready(b *testing.B, i int) bool {
	rn := c.nodes[i]
	if !rn.HasReady() {
		return false
	}
	rd := rn.Ready()
	s := c.storages[i]
	if rd.Snapshot != nil {
		if err := s.ApplySnapshot(rd.Snapshot); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Append(rd.Entries); err != nil {
		b.Fatal(err)
	}
	if rd.HardState != nil {
		if err := s.SetHardState(rd.HardState); err != nil {
			b.Fatal(err)
		}
	}
	for _, e := range rd.CommittedEntries {
		if e.Type == raftpb.EntryConfChange {
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rn.ApplyConfChange(cc); err != nil {
				b.Fatal(err)
			}
		}
	}
	c.queue = append(c.queue, rd.Messages...)
	rn.Advance(rd)
	return true
}

// settle runs Ready cycles and delivers messages until the cluster is
// quiet.
func (c *benchCluster) settle(b *testing.B) {
	for {
		active := false
		for i := range c.nodes {
			if c.ready(b, i) {
				active = true
			}
		}
		if len(c.queue) == 0 && !active {
			return
		}
		c.queue, c.next = c.next[:0], c.queue
		for j, m := range c.next {
			_ = c.nodes[m.To-1].Step(m)
			c.next[j] = nil
		}
	}
}

// compact drops applied entries from every storage so that a long run
// does not grow memory without bound.
func (c *benchCluster) compact(b *testing.B) {
	for i, rn := range c.nodes {
		applied := rn.raft.raftLog.applied
		if first, _ := c.storages[i].FirstIndex(); applied > first+1024 {
			if err := c.storages[i].Compact(applied - 512); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRawNodeProposeCommit proposes on the leader and runs the
// cluster until the proposals are committed and applied everywhere. ns/op
// is per proposal; batch proposals go in before the cluster runs.
func BenchmarkRawNodeProposeCommit(b *testing.B) {
	for _, voters := range []int{1, 3} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("voters=%d/batch=%d", voters, batch), func(b *testing.B) {
				c := newBenchCluster(b, voters)
				leader := c.nodes[0]
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += batch {
					for j := 0; j < batch; j++ {
						if err := leader.Propose(benchPayload); err != nil {
							b.Fatal(err)
						}
					}
					c.settle(b)
					if i%4096 < batch {
						c.compact(b)
					}
				}
				b.StopTimer()
				for _, rn := range c.nodes {
					if rn.raft.raftLog.applied < uint64(b.N) {
						b.Fatalf("node %d applied %d of %d proposals", rn.raft.id, rn.raft.raftLog.applied, b.N)
					}
				}
			})
		}
	}
}

// BenchmarkFollowerStepMsgApp steps a MsgApp of 64 entries into a follower
// and runs its Ready/Advance cycle (persist, acknowledge). ns/op is per
// message. The messages are built in batches with the timer stopped.
func BenchmarkFollowerStepMsgApp(b *testing.B) {
	const entsPerMsg, prebuilt = 64, 256
	s := newVoterStorage(b, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1})
	n := newTestNode(b, 2, s)
	c := &benchCluster{nodes: []*RawNode{n.rn}, storages: []*MemoryStorage{s}}
	index := uint64(1)
	msgs := make([]*raftpb.Message, prebuilt)
	build := func() {
		for k := range msgs {
			ents := make([]*raftpb.Entry, entsPerMsg)
			for j := range ents {
				ents[j] = &raftpb.Entry{Term: 1, Index: index + 1 + uint64(j), Data: benchPayload}
			}
			msgs[k] = &raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 1, Index: index, LogTerm: 1,
				Commit: index, Entries: ents}
			index += entsPerMsg
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%prebuilt == 0 {
			b.StopTimer()
			build()
			c.compact(b)
			b.StartTimer()
		}
		if err := n.rn.Step(msgs[i%prebuilt]); err != nil {
			b.Fatal(err)
		}
		c.ready(b, 0)
		c.queue = c.queue[:0]
	}
	b.StopTimer()
	if last := n.rn.raft.raftLog.lastIndex(); last != 1+uint64(b.N)*entsPerMsg {
		b.Fatalf("last index %d, want %d", last, 1+uint64(b.N)*entsPerMsg)
	}
}

// BenchmarkRawNodeReadyAdvance measures one Ready/Advance cycle: with
// nothing to do, on a leader of three sending a round of heartbeats, and
// on a single voter persisting and applying one entry.
func BenchmarkRawNodeReadyAdvance(b *testing.B) {
	b.Run("idle", func(b *testing.B) {
		c := newBenchCluster(b, 1)
		rn := c.nodes[0]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rd := rn.Ready()
			rn.Advance(rd)
		}
	})
	b.Run("heartbeat/voters=3", func(b *testing.B) {
		c := newBenchCluster(b, 3)
		rn := c.nodes[0]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rn.Tick() // HeartbeatTick is 1: every tick sends heartbeats
			rd := rn.Ready()
			if len(rd.Messages) != 2 {
				b.Fatalf("%d messages, want 2 heartbeats", len(rd.Messages))
			}
			rn.Advance(rd)
		}
	})
	b.Run("entry/voters=1", func(b *testing.B) {
		c := newBenchCluster(b, 1)
		rn := c.nodes[0]
		if err := rn.Propose(benchPayload); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// Each cycle persists the entry proposed in the previous
			// one and applies it; a proposal is one allocation, which
			// shows here too.
			c.ready(b, 0)
			if err := rn.Propose(benchPayload); err != nil {
				b.Fatal(err)
			}
			if i%4096 == 0 {
				c.compact(b)
			}
		}
	})
}

// BenchmarkRawNodeStatus compares Status, which copies the configuration
// and the progress map, with BasicStatus, which must not allocate.
func BenchmarkRawNodeStatus(b *testing.B) {
	for _, voters := range []int{1, 3, 5} {
		c := newBenchCluster(b, voters)
		rn := c.nodes[0]
		b.Run(fmt.Sprintf("Status/voters=%d", voters), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = rn.Status()
			}
		})
		b.Run(fmt.Sprintf("BasicStatus/voters=%d", voters), func(b *testing.B) {
			b.ReportAllocs()
			var st BasicStatus
			for i := 0; i < b.N; i++ {
				st = rn.BasicStatus()
			}
			b.StopTimer()
			if st.RaftState != StateLeader {
				b.Fatal("not the leader")
			}
			if allocs := testing.AllocsPerRun(10, func() { st = rn.BasicStatus() }); allocs != 0 {
				b.Fatalf("BasicStatus allocates %.1f times per call", allocs)
			}
		})
	}
}
