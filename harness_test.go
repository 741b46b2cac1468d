package raft

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// testNode is a RawNode with its in-memory storage and the entries it has
// applied, driven synchronously by testNetwork.
type testNode struct {
	rn      *RawNode
	storage *MemoryStorage
	applied []*raftpb.Entry
}

// testNetwork is a deterministic in-memory cluster: Ready batches are
// processed in node ID order and messages delivered in send order.
type testNetwork struct {
	t     testing.TB
	nodes map[uint64]*testNode
	ids   []uint64
	// cut drops messages on a directed link.
	cut map[[2]uint64]bool
	// down drops everything to and from a node.
	down  map[uint64]bool
	queue []*raftpb.Message
}

func testConfig(id uint64, s Storage) *Config {
	return &Config{
		ID:              id,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         s,
		MaxSizePerMsg:   noLimit,
		MaxInflightMsgs: 256,
	}
}

// newTestNetwork bootstraps n voters 1..n; opts adjust every Config.
func newTestNetwork(t testing.TB, n int, opts ...func(*Config)) *testNetwork {
	t.Helper()
	nw := &testNetwork{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, down: map[uint64]bool{}}
	var peers []Peer
	for id := uint64(1); id <= uint64(n); id++ {
		peers = append(peers, Peer{ID: id})
	}
	for _, p := range peers {
		nw.addNode(p.ID, peers, opts...)
	}
	// Persist and apply the bootstrap entries.
	nw.stabilize()
	return nw
}

func (nw *testNetwork) addNode(id uint64, peers []Peer, opts ...func(*Config)) *testNode {
	nw.t.Helper()
	s := NewMemoryStorage()
	c := testConfig(id, s)
	for _, o := range opts {
		o(c)
	}
	rn, err := NewRawNode(c)
	if err != nil {
		nw.t.Fatal(err)
	}
	if len(peers) > 0 {
		if err := rn.Bootstrap(peers); err != nil {
			nw.t.Fatal(err)
		}
	}
	n := &testNode{rn: rn, storage: s}
	nw.nodes[id] = n
	nw.ids = append(nw.ids, id)
	slices.Sort(nw.ids)
	return n
}

// processReady runs one Ready/Advance cycle on node id, following the
// documented contract, and queues its messages.
func (nw *testNetwork) processReady(id uint64) bool {
	n := nw.nodes[id]
	if !n.rn.HasReady() {
		return false
	}
	rd := n.rn.Ready()
	if rd.Snapshot != nil {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			nw.t.Fatalf("node %d: apply snapshot: %v", id, err)
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		nw.t.Fatalf("node %d: append: %v", id, err)
	}
	if rd.HardState != nil {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			nw.t.Fatal(err)
		}
	}
	nw.queue = append(nw.queue, rd.Messages...)
	for _, e := range rd.CommittedEntries {
		n.applied = append(n.applied, e)
		if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				nw.t.Fatal(err)
			}
			if _, err := n.rn.ApplyConfChange(cc); err != nil {
				nw.t.Fatalf("node %d: apply conf change: %v", id, err)
			}
		}
	}
	n.rn.Advance(rd)
	return true
}

// deliver hands queued messages to their recipients, honouring cuts.
func (nw *testNetwork) deliver() bool {
	msgs := nw.queue
	nw.queue = nil
	for _, m := range msgs {
		if nw.cut[[2]uint64{m.From, m.To}] || nw.down[m.From] || nw.down[m.To] {
			continue
		}
		n, ok := nw.nodes[m.To]
		if !ok {
			continue
		}
		_ = n.rn.Step(m)
	}
	return len(msgs) > 0
}

// stabilize processes Ready batches and messages until the cluster is
// quiet.
func (nw *testNetwork) stabilize() {
	for i := 0; ; i++ {
		if i > 10000 {
			nw.t.Fatal("network did not stabilize")
		}
		active := false
		for _, id := range nw.ids {
			if nw.processReady(id) {
				active = true
			}
		}
		if nw.deliver() {
			active = true
		}
		if !active {
			return
		}
	}
}

func (nw *testNetwork) campaign(id uint64) {
	if err := nw.nodes[id].rn.Campaign(); err != nil {
		nw.t.Fatal(err)
	}
	nw.stabilize()
}

func (nw *testNetwork) tickAll(n int) {
	for i := 0; i < n; i++ {
		for _, id := range nw.ids {
			if !nw.down[id] {
				nw.nodes[id].rn.Tick()
			}
		}
		nw.stabilize()
	}
}

// leader returns the single node that believes it leads the highest term,
// or 0.
func (nw *testNetwork) leader() uint64 {
	var lead, term uint64
	for _, id := range nw.ids {
		st := nw.nodes[id].rn.BasicStatus()
		if st.RaftState == StateLeader && st.Term >= term && !nw.down[id] {
			lead, term = id, st.Term
		}
	}
	return lead
}

func (nw *testNetwork) isolate(id uint64) {
	for _, other := range nw.ids {
		if other != id {
			nw.cut[[2]uint64{id, other}] = true
			nw.cut[[2]uint64{other, id}] = true
		}
	}
}

func (nw *testNetwork) heal() {
	nw.cut = map[[2]uint64]bool{}
}

// appliedData lists the data of the normal, non-empty entries a node has
// applied.
func (n *testNode) appliedData() []string {
	var out []string
	for _, e := range n.applied {
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			out = append(out, string(e.Data))
		}
	}
	return out
}

func TestNetworkSmoke(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	if got := nw.leader(); got != 1 {
		t.Fatalf("leader = %d, want 1", got)
	}
	for i := 0; i < 5; i++ {
		if err := nw.nodes[1].rn.Propose([]byte(fmt.Sprintf("x%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	nw.stabilize()
	want := []string{"x0", "x1", "x2", "x3", "x4"}
	for _, id := range nw.ids {
		if got := nw.nodes[id].appliedData(); !slices.Equal(got, want) {
			t.Fatalf("node %d applied %v, want %v", id, got, want)
		}
	}
	// A follower forwards proposals to the leader.
	if err := nw.nodes[3].rn.Propose([]byte("fwd")); err != nil {
		t.Fatal(err)
	}
	nw.stabilize()
	if got := nw.nodes[2].appliedData(); got[len(got)-1] != "fwd" {
		t.Fatalf("node 2 applied %v, want fwd last", got)
	}
	// The leader fails; another is elected by timeout and the log
	// survives.
	nw.down[1] = true
	nw.tickAll(40)
	lead := nw.leader()
	if lead == 0 || lead == 1 {
		t.Fatalf("no new leader after isolating 1: %d", lead)
	}
	if err := nw.nodes[lead].rn.Propose([]byte("after")); err != nil {
		t.Fatal(err)
	}
	nw.stabilize()
	for _, id := range []uint64{2, 3} {
		got := nw.nodes[id].appliedData()
		if len(got) != 7 || got[6] != "after" {
			t.Fatalf("node %d applied %v", id, got)
		}
	}
}
