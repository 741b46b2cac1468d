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
	// drop, when set, discards the messages it returns true for, on top
	// of cut and down. Tests use it to shape a scenario message by
	// message.
	drop func(m *raftpb.Message) bool
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

// newVoterStorage returns a MemoryStorage whose configuration has the given
// voters and whose log holds one entry per element of terms, at indexes 1,
// 2, ... with those terms, and hard state hs (nil for none). It stands for
// the disk of a node that has been running for a while.
func newVoterStorage(t testing.TB, voters []uint64, terms []uint64, hs *raftpb.HardState) *MemoryStorage {
	t.Helper()
	s := NewMemoryStorage()
	s.snapshot.Metadata.ConfState = &raftpb.ConfState{Voters: voters}
	ents := make([]*raftpb.Entry, len(terms))
	for i, term := range terms {
		ents[i] = &raftpb.Entry{Index: uint64(i + 1), Term: term}
	}
	if err := s.Append(ents); err != nil {
		t.Fatal(err)
	}
	if hs != nil {
		if err := s.SetHardState(hs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// newTestNode starts a node over existing storage with testConfig
// adjusted by opts.
func newTestNode(t testing.TB, id uint64, s *MemoryStorage, opts ...func(*Config)) *testNode {
	t.Helper()
	c := testConfig(id, s)
	for _, o := range opts {
		o(c)
	}
	rn, err := NewRawNode(c)
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{rn: rn, storage: s}
}

// newTestNetworkOf wires up nodes created by the caller (nothing is
// bootstrapped).
func newTestNetworkOf(t testing.TB, nodes ...*testNode) *testNetwork {
	nw := &testNetwork{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, down: map[uint64]bool{}}
	for _, n := range nodes {
		id := n.rn.raft.id
		nw.nodes[id] = n
		nw.ids = append(nw.ids, id)
	}
	slices.Sort(nw.ids)
	return nw
}

// drain runs Ready cycles until the node has nothing left to do and
// returns every message it sent meanwhile.
func (n *testNode) drain(t testing.TB) []*raftpb.Message {
	t.Helper()
	var out []*raftpb.Message
	for {
		msgs, ok := n.handleReady(t)
		if !ok {
			return out
		}
		out = append(out, msgs...)
	}
}

// processReady runs one Ready/Advance cycle on node id, following the
// documented contract, and queues its messages.
func (nw *testNetwork) processReady(id uint64) bool {
	msgs, ok := nw.nodes[id].handleReady(nw.t)
	nw.queue = append(nw.queue, msgs...)
	return ok
}

// handleReady runs one Ready/Advance cycle, if there is a Ready: it
// persists the snapshot, entries and hard state to the node's storage,
// applies the committed entries (conf changes included) and returns the
// messages to send.
func (n *testNode) handleReady(t testing.TB) ([]*raftpb.Message, bool) {
	t.Helper()
	if !n.rn.HasReady() {
		return nil, false
	}
	id := n.rn.raft.id
	rd := n.rn.Ready()
	if rd.Snapshot != nil {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			t.Fatalf("node %d: apply snapshot: %v", id, err)
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		t.Fatalf("node %d: append: %v", id, err)
	}
	if rd.HardState != nil {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range rd.CommittedEntries {
		n.applied = append(n.applied, e)
		if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.rn.ApplyConfChange(cc); err != nil {
				t.Fatalf("node %d: apply conf change: %v", id, err)
			}
		}
	}
	n.rn.Advance(rd)
	return rd.Messages, true
}

// deliver hands queued messages to their recipients, honouring cuts.
func (nw *testNetwork) deliver() bool {
	msgs := nw.queue
	nw.queue = nil
	for _, m := range msgs {
		if nw.cut[[2]uint64{m.From, m.To}] || nw.down[m.From] || nw.down[m.To] {
			continue
		}
		if nw.drop != nil && nw.drop(m) {
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
