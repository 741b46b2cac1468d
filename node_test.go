package raft

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed901663da/raft/raftpb"
)

// This file tests Node with an in-process cluster: every member runs the
// application side of the package documentation's loop in goroutines of
// its own (a Ready loop persisting to a MemoryStorage, an inbox stepping
// messages from peers, and with AsyncStorageWrites an append and an apply
// goroutine), and members talk over channels. Tests wait for what the
// members observe (soft state, applied entries, read states) through a
// change notification; time only appears as a deadline that fails a test
// which would otherwise hang.

// waitLimit bounds every wait. It is a failure deadline, never a pacing
// device: nothing waits for it to pass in a passing run.
const waitLimit = 20 * time.Second

// clusterMember is one running Node and what its application saw.
type clusterMember struct {
	id      uint64
	node    Node
	storage *MemoryStorage
	inbox   chan *raftpb.Message
	quit    chan struct{}
	wg      sync.WaitGroup

	mu         sync.Mutex
	applied    []*raftpb.Entry // every committed entry applied, in order
	confState  *raftpb.ConfState
	readStates []ReadState
	soft       SoftState
}

// nodeCluster is a set of clusterMembers connected by channels.
type nodeCluster struct {
	t     testing.TB
	async bool
	opts  []func(*Config)

	mu       sync.Mutex
	members  map[uint64]*clusterMember // running members only
	storages map[uint64]*MemoryStorage // survive a member's stop
	changed  chan struct{}             // closed and replaced on every observation
	failures []string                  // unexpected errors seen by goroutines

	// busy counts messages in flight plus Readys being processed; settle
	// uses it to pace ticks.
	busy atomic.Int64
}

// newNodeCluster starts voters 1..n with StartNode. opts adjust every
// member's Config.
func newNodeCluster(t testing.TB, n int, async bool, opts ...func(*Config)) *nodeCluster {
	t.Helper()
	c := &nodeCluster{
		t: t, async: async, opts: opts,
		members:  map[uint64]*clusterMember{},
		storages: map[uint64]*MemoryStorage{},
		changed:  make(chan struct{}),
	}
	var peers []Peer
	for id := uint64(1); id <= uint64(n); id++ {
		peers = append(peers, Peer{ID: id})
	}
	for _, p := range peers {
		c.start(p.ID, peers)
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *nodeCluster) config(id uint64) *Config {
	s := c.storages[id]
	if s == nil {
		s = NewMemoryStorage()
		c.storages[id] = s
	}
	cfg := testConfig(id, s)
	cfg.AsyncStorageWrites = c.async
	for _, o := range c.opts {
		o(cfg)
	}
	return cfg
}

// start runs member id: bootstrapped with peers if any, otherwise
// restarted from its storage (empty for a node joining later). A
// restarted member applies its log again from the start, as an
// application whose state machine lives in memory must.
func (c *nodeCluster) start(id uint64, peers []Peer) *clusterMember {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.config(id)
	var n Node
	var err error
	if len(peers) > 0 {
		n, err = StartNode(cfg, peers)
	} else {
		n, err = RestartNode(cfg)
	}
	if err != nil {
		c.t.Fatalf("starting node %d: %v", id, err)
	}
	m := &clusterMember{
		id: id, node: n, storage: cfg.Storage.(*MemoryStorage),
		inbox: make(chan *raftpb.Message, 4096),
		quit:  make(chan struct{}),
	}
	c.members[id] = m
	m.wg.Add(2)
	go c.runInbox(m)
	if c.async {
		appendc := make(chan *raftpb.Message, 1024)
		applyc := make(chan *raftpb.Message, 1024)
		m.wg.Add(2)
		go c.runAsyncReady(m, appendc, applyc)
		go c.runStorageWorker(m, appendc, c.persistMsg)
		go c.runStorageWorker(m, applyc, c.applyMsg)
	} else {
		go c.runReady(m)
	}
	return m
}

// stop kills member id: its Node and its goroutines. Its storage stays.
func (c *nodeCluster) stop(id uint64) {
	c.mu.Lock()
	m := c.members[id]
	delete(c.members, id)
	c.mu.Unlock()
	if m == nil {
		return
	}
	// Stop the Node first: it releases goroutines blocked in Advance or
	// Step, so that they notice quit.
	m.node.Stop()
	close(m.quit)
	m.wg.Wait()
	for {
		select {
		case <-m.inbox:
			c.busy.Add(-1)
			continue
		default:
		}
		break
	}
	c.notify()
}

func (c *nodeCluster) stopAll() {
	c.mu.Lock()
	ids := make([]uint64, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.stop(id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.failures {
		c.t.Error(f)
	}
}

func (c *nodeCluster) fail(format string, args ...any) {
	c.mu.Lock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
	c.mu.Unlock()
	c.notify()
}

func (c *nodeCluster) notify() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *nodeCluster) member(id uint64) *clusterMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id]
}

func (c *nodeCluster) running() []*clusterMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ms []*clusterMember
	for _, m := range c.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *clusterMember) int { return int(a.id) - int(b.id) })
	return ms
}

// deliver sends a message to its recipient's inbox. Messages to a member
// that is not running, or whose inbox is full, are lost, as on a network.
func (c *nodeCluster) deliver(msg *raftpb.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dst := c.members[msg.To]
	if dst == nil {
		return
	}
	c.busy.Add(1)
	select {
	case dst.inbox <- msg:
	default:
		c.busy.Add(-1)
	}
}

func (c *nodeCluster) runInbox(m *clusterMember) {
	defer m.wg.Done()
	for {
		select {
		case msg := <-m.inbox:
			c.checkStep(m, msg, m.node.Step(context.Background(), msg))
			c.busy.Add(-1)
			c.notify()
		case <-m.quit:
			return
		}
	}
}

// checkStep records step errors that mean the harness is wrong. Others
// (a proposal dropped, a response from a removed peer, a stopped node) are
// part of normal operation.
func (c *nodeCluster) checkStep(m *clusterMember, msg *raftpb.Message, err error) {
	if errors.Is(err, ErrStepLocalMsg) || errors.Is(err, ErrMalformedMessage) || errors.Is(err, ErrUnknownMessageType) {
		c.fail("node %d: stepping %s: %v", m.id, raftpb.DescribeMessage(msg, nil), err)
	}
}

// runReady is the synchronous Ready loop of the package documentation.
func (c *nodeCluster) runReady(m *clusterMember) {
	defer m.wg.Done()
	for {
		select {
		case rd := <-m.node.Ready():
			c.busy.Add(1)
			c.observe(m, &rd)
			if rd.Snapshot != nil {
				c.check(m, "apply snapshot", m.storage.ApplySnapshot(rd.Snapshot))
			}
			c.check(m, "append", m.storage.Append(rd.Entries))
			if rd.HardState != nil {
				c.check(m, "set hard state", m.storage.SetHardState(rd.HardState))
			}
			for _, msg := range rd.Messages {
				c.deliver(msg)
			}
			c.apply(m, rd.CommittedEntries)
			m.node.Advance()
			c.busy.Add(-1)
			c.notify()
		case <-m.quit:
			return
		}
	}
}

// runAsyncReady is the Ready loop with AsyncStorageWrites: storage work
// goes to the append and apply goroutines, everything else to the peers
// at once.
func (c *nodeCluster) runAsyncReady(m *clusterMember, appendc, applyc chan<- *raftpb.Message) {
	defer m.wg.Done()
	for {
		select {
		case rd := <-m.node.Ready():
			c.observe(m, &rd)
			for _, msg := range rd.Messages {
				var to chan<- *raftpb.Message
				switch msg.To {
				case LocalAppendThread:
					to = appendc
				case LocalApplyThread:
					to = applyc
				default:
					c.deliver(msg)
					continue
				}
				c.busy.Add(1)
				select {
				case to <- msg:
				case <-m.quit:
					return
				}
			}
			c.notify()
		case <-m.quit:
			return
		}
	}
}

// runStorageWorker carries out storage messages in order with do, then
// delivers their responses: to this node through Step, to peers through
// the network.
func (c *nodeCluster) runStorageWorker(m *clusterMember, work <-chan *raftpb.Message, do func(*clusterMember, *raftpb.Message)) {
	defer m.wg.Done()
	for {
		select {
		case msg := <-work:
			do(m, msg)
			for _, resp := range msg.Responses {
				if resp.To == m.id {
					c.checkStep(m, resp, m.node.Step(context.Background(), resp))
				} else {
					c.deliver(resp)
				}
			}
			c.busy.Add(-1)
			c.notify()
		case <-m.quit:
			return
		}
	}
}

func (c *nodeCluster) persistMsg(m *clusterMember, msg *raftpb.Message) {
	if msg.Snapshot != nil {
		c.check(m, "apply snapshot", m.storage.ApplySnapshot(msg.Snapshot))
	}
	c.check(m, "append", m.storage.Append(msg.Entries))
	if msg.Term != 0 {
		hs := &raftpb.HardState{Term: msg.Term, Vote: msg.Vote, Commit: msg.Commit}
		c.check(m, "set hard state", m.storage.SetHardState(hs))
	}
}

func (c *nodeCluster) applyMsg(m *clusterMember, msg *raftpb.Message) {
	c.apply(m, msg.Entries)
}

func (c *nodeCluster) check(m *clusterMember, what string, err error) {
	if err != nil {
		c.fail("node %d: %s: %v", m.id, what, err)
	}
}

func (c *nodeCluster) observe(m *clusterMember, rd *Ready) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rd.SoftState != nil {
		m.soft = *rd.SoftState
	}
	m.readStates = append(m.readStates, rd.ReadStates...)
}

func (c *nodeCluster) apply(m *clusterMember, ents []*raftpb.Entry) {
	for _, e := range ents {
		if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				c.fail("node %d: decoding conf change at %d: %v", m.id, e.Index, err)
				continue
			}
			cs, err := m.node.ApplyConfChange(cc)
			if err != nil && !errors.Is(err, ErrStopped) {
				c.fail("node %d: applying conf change at %d: %v", m.id, e.Index, err)
			}
			if err == nil {
				m.mu.Lock()
				m.confState = cs
				m.mu.Unlock()
			}
		}
		m.mu.Lock()
		m.applied = append(m.applied, e)
		m.mu.Unlock()
	}
}

// waitFor waits until cond holds, re-checking it whenever a member
// observes something.
func (c *nodeCluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %s\n%s", what, c.describe())
		}
	}
}

// tickUntil ticks every running member, one tick at a time, until cond
// holds. Between ticks it lets the cluster settle, so that elections are
// not decided by how fast the test loop spins.
func (c *nodeCluster) tickUntil(what string, maxTicks int, cond func() bool) {
	c.t.Helper()
	for i := 0; i < maxTicks; i++ {
		c.settle()
		if cond() {
			return
		}
		for _, m := range c.running() {
			m.node.Tick()
		}
		// Status requests go through the same loop as the tick; a few of
		// them make it very likely the tick was taken before the next
		// round, so that ticks are not buffered up and handled in a burst
		// that outruns the messages they cause. It only paces.
		for _, m := range c.running() {
			for range 4 {
				m.node.Status()
			}
		}
	}
	c.settle()
	if !cond() {
		c.t.Fatalf("%s: not reached within %d ticks\n%s", what, maxTicks, c.describe())
	}
}

// settle yields until no message or Ready has been in flight for a while
// (bounded). It only paces ticks; no outcome depends on it.
func (c *nodeCluster) settle() {
	for i, quiet := 0, 0; i < 20000 && quiet < 50; i++ {
		runtime.Gosched()
		if c.busy.Load() == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// leader returns the member that all running members agree leads, or 0.
func (c *nodeCluster) leader() uint64 {
	var lead uint64
	for i, m := range c.running() {
		m.mu.Lock()
		s := m.soft
		m.mu.Unlock()
		if i == 0 {
			lead = s.Lead
		}
		if s.Lead != lead || lead == None {
			return None
		}
	}
	if c.member(lead) == nil {
		return None
	}
	return lead
}

// data returns the payloads of the normal, non-empty entries m applied.
func (m *clusterMember) data() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.applied {
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			out = append(out, string(e.Data))
		}
	}
	return out
}

// appliedLog describes every entry m applied, one line each.
func (m *clusterMember) appliedLog() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return raftpb.DescribeEntries(m.applied, nil)
}

func (m *clusterMember) hasData(want ...string) bool {
	got := m.data()
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func (c *nodeCluster) allHaveData(want ...string) bool {
	for _, m := range c.running() {
		if !m.hasData(want...) {
			return false
		}
	}
	return true
}

func (c *nodeCluster) describe() string {
	var b strings.Builder
	for _, m := range c.running() {
		m.mu.Lock()
		fmt.Fprintf(&b, "node %d: lead=%d state=%s applied=%d\n", m.id, m.soft.Lead, m.soft.RaftState, len(m.applied))
		m.mu.Unlock()
	}
	return b.String()
}

// campaign makes member id campaign and waits until everyone follows it.
func (c *nodeCluster) campaign(id uint64) {
	c.t.Helper()
	// A node refuses to campaign while committed conf changes (such as
	// the bootstrap entries) are unapplied, so wait for them first.
	n := c.member(id).node
	c.waitFor(fmt.Sprintf("node %d to apply its committed entries", id), func() bool {
		st := n.Status()
		return st.Applied >= st.Commit
	})
	if err := n.Campaign(context.Background()); err != nil {
		c.t.Fatalf("campaign: %v", err)
	}
	c.waitFor(fmt.Sprintf("node %d to lead", id), func() bool { return c.leader() == id })
}

func (c *nodeCluster) propose(id uint64, data ...string) {
	c.t.Helper()
	for _, d := range data {
		if err := c.member(id).node.Propose(context.Background(), []byte(d)); err != nil {
			c.t.Fatalf("node %d: propose %q: %v", id, d, err)
		}
	}
}

func TestNodeStartErrors(t *testing.T) {
	if _, err := StartNode(testConfig(1, NewMemoryStorage()), nil); err == nil {
		t.Error("StartNode without peers: want an error")
	}
	bad := testConfig(1, NewMemoryStorage())
	bad.ElectionTick = 0
	if _, err := StartNode(bad, []Peer{{ID: 1}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StartNode with invalid config: got %v, want ErrInvalidConfig", err)
	}
	if _, err := RestartNode(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("RestartNode with invalid config: got %v, want ErrInvalidConfig", err)
	}
	if _, err := StartNode(nil, []Peer{{ID: 1}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StartNode with nil config: got %v, want ErrInvalidConfig", err)
	}
	s := NewMemoryStorage()
	if err := s.Append([]*raftpb.Entry{{Index: 1, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := StartNode(testConfig(1, s), []Peer{{ID: 1}}); !errors.Is(err, ErrBootstrapNonEmpty) {
		t.Errorf("StartNode on non-empty storage: got %v, want ErrBootstrapNonEmpty", err)
	}
}

func TestNodeProposeCommitted(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	c.campaign(1)
	c.propose(1, "foo", "bar")
	m := c.member(1)
	c.waitFor("foo and bar applied", func() bool { return m.hasData("foo", "bar") })
	if got := m.data(); !slices.Equal(got, []string{"foo", "bar"}) {
		t.Errorf("applied %q, want [foo bar] in order", got)
	}
}

func TestNodeProposeCancelledContext(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	n := c.member(1).node
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Propose(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Propose with cancelled ctx: got %v, want context.Canceled", err)
	}
	// Still true once there is a leader to propose to.
	c.campaign(1)
	if err := n.Propose(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Propose with cancelled ctx on a leader: got %v, want context.Canceled", err)
	}
	if err := n.Campaign(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Campaign with cancelled ctx: got %v, want context.Canceled", err)
	}
}

// A proposal made while there is no leader waits for one rather than
// failing: here it goes through once the node wins an election.
func TestNodeProposeWaitsForLeader(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	n := c.member(1).node
	result := make(chan error, 1)
	go func() { result <- n.Propose(context.Background(), []byte("early")) }()
	c.campaign(1)
	if err := <-result; err != nil {
		t.Fatalf("Propose before the election: %v", err)
	}
	m := c.member(1)
	c.waitFor("early applied", func() bool { return m.hasData("early") })
}

// A waiting proposal gives up when its context ends, with the context's
// error, not ErrProposalDropped.
func TestNodeProposeNoLeaderCancelled(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	n := c.member(1).node
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- n.Propose(ctx, []byte("x")) }()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if st := n.Status(); st.Commit != 1 {
		t.Errorf("commit = %d, want only the bootstrap entry (1)", st.Commit)
	}
}

func TestNodeProposeDroppedWithoutForwarding(t *testing.T) {
	c := newNodeCluster(t, 2, false, func(cfg *Config) { cfg.DisableProposalForwarding = true })
	c.campaign(1)
	err := c.member(2).node.Propose(context.Background(), []byte("x"))
	if !errors.Is(err, ErrProposalDropped) {
		t.Errorf("Propose on a follower without forwarding: got %v, want ErrProposalDropped", err)
	}
	err = c.member(2).node.ProposeConfChange(context.Background(), &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: 3})
	if !errors.Is(err, ErrProposalDropped) {
		t.Errorf("ProposeConfChange on a follower without forwarding: got %v, want ErrProposalDropped", err)
	}
}

// Proposals on a follower are forwarded to the leader and committed.
func TestNodeProposeForwarded(t *testing.T) {
	c := newNodeCluster(t, 3, false)
	c.campaign(1)
	c.propose(3, "via-3")
	c.waitFor("via-3 applied everywhere", func() bool { return c.allHaveData("via-3") })
}

func TestNodeStopped(t *testing.T) {
	s := NewMemoryStorage()
	n, err := StartNode(testConfig(1, s), []Peer{{ID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	n.Stop()
	n.Stop() // idempotent
	ctx := context.Background()
	for name, err := range map[string]error{
		"Propose":           n.Propose(ctx, []byte("x")),
		"ProposeConfChange": n.ProposeConfChange(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: 2}),
		"Campaign":          n.Campaign(ctx),
		"Step":              n.Step(ctx, &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1}),
		"ForgetLeader":      n.ForgetLeader(ctx),
		"ReadIndex":         n.ReadIndex(ctx, []byte("r")),
	} {
		if !errors.Is(err, ErrStopped) {
			t.Errorf("%s after Stop: got %v, want ErrStopped", name, err)
		}
	}
	if _, err := n.ApplyConfChange(&raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: 2}); !errors.Is(err, ErrStopped) {
		t.Errorf("ApplyConfChange after Stop: got %v, want ErrStopped", err)
	}
	if st := n.Status(); st.ID != 0 {
		t.Errorf("Status after Stop = %v, want the zero Status", st)
	}
	// These have no result; they must simply not block.
	n.Tick()
	n.Advance()
	n.TransferLeadership(ctx, 1, 2)
	n.ReportUnreachable(2)
	n.ReportSnapshot(2, SnapshotFinish)
	select {
	case rd := <-n.Ready():
		t.Errorf("Ready delivered after Stop: %+v", rd)
	default:
	}
}

// Concurrent Stop calls all return once the goroutine has exited.
func TestNodeStopConcurrent(t *testing.T) {
	n, err := StartNode(testConfig(1, NewMemoryStorage()), []Peer{{ID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
	if err := n.Campaign(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Campaign after Stop: got %v, want ErrStopped", err)
	}
}

func TestNodeStepErrors(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	n := c.member(1).node
	ctx := context.Background()
	for _, tc := range []struct {
		m    *raftpb.Message
		want error
	}{
		{nil, ErrMalformedMessage},
		{&raftpb.Message{Type: raftpb.MsgHup}, ErrStepLocalMsg},
		{&raftpb.Message{Type: raftpb.MessageType(1000)}, ErrUnknownMessageType},
		// Storage responses are for AsyncStorageWrites only.
		{&raftpb.Message{Type: raftpb.MsgStorageAppendResp, From: LocalAppendThread}, ErrStepLocalMsg},
		{&raftpb.Message{Type: raftpb.MsgAppResp, From: 7, Term: 1}, ErrStepPeerNotFound},
		// A forwarded proposal does not wait for a leader.
		{&raftpb.Message{Type: raftpb.MsgProp, From: 2, Entries: []*raftpb.Entry{{Data: []byte("x")}}}, ErrProposalDropped},
	} {
		if err := n.Step(ctx, tc.m); !errors.Is(err, tc.want) {
			t.Errorf("Step(%s): got %v, want %v", raftpb.DescribeMessage(tc.m, nil), err, tc.want)
		}
	}
}

func TestNodeCampaign(t *testing.T) {
	c := newNodeCluster(t, 3, false)
	c.campaign(2)
	st := c.member(2).node.Status()
	if st.RaftState != StateLeader || st.Lead != 2 || st.Term != 2 {
		t.Errorf("after Campaign: %v, want leader 2 at term 2", st.BasicStatus)
	}
	// Campaigning on the leader changes nothing.
	if err := c.member(2).node.Campaign(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := c.member(2).node.Status(); st.Term != 2 || st.RaftState != StateLeader {
		t.Errorf("after a second Campaign: %v", st.BasicStatus)
	}
}

func TestNodeStatus(t *testing.T) {
	c := newNodeCluster(t, 2, false)
	c.campaign(1)
	c.propose(1, "x")
	c.waitFor("x applied", func() bool { return c.allHaveData("x") })
	// Applied in the Ready loop is reported to the node by Advance, which
	// may still be under way: wait for the leader's status to catch up.
	var st Status
	c.waitFor("leader applied x", func() bool {
		st = c.member(1).node.Status()
		return st.Applied == 4
	})
	if st.ID != 1 || st.Term != 2 || st.Vote != 1 || st.Lead != 1 || st.RaftState != StateLeader || st.Commit != 4 {
		t.Errorf("leader status: %v", st.BasicStatus)
	}
	if got := st.Config.Voters.IDs(); len(got) != 2 {
		t.Errorf("voters %v, want 1 and 2", got)
	}
	if len(st.Progress) != 2 || st.Progress[2].Match != 4 {
		t.Errorf("leader progress: %v", st.Progress)
	}
	fst := c.member(2).node.Status()
	if fst.RaftState != StateFollower || fst.Lead != 1 || fst.Progress != nil {
		t.Errorf("follower status: %v (progress %v)", fst.BasicStatus, fst.Progress)
	}
}

func TestNodeReadIndex(t *testing.T) {
	c := newNodeCluster(t, 3, false)
	c.campaign(1)
	c.propose(1, "x")
	c.waitFor("x applied", func() bool { return c.allHaveData("x") })
	// On the leader, and on a follower (which asks the leader).
	for _, id := range []uint64{1, 3} {
		m := c.member(id)
		rctx := []byte(fmt.Sprintf("read-%d", id))
		if err := m.node.ReadIndex(context.Background(), rctx); err != nil {
			t.Fatal(err)
		}
		var got ReadState
		c.waitFor("read state", func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, rs := range m.readStates {
				if string(rs.RequestCtx) == string(rctx) {
					got = rs
					return true
				}
			}
			return false
		})
		// The read point is the commit index when the request was made:
		// bootstrap 1-3, the leader's empty entry 4, x at 5.
		if got.Index != 5 {
			t.Errorf("node %d: read index %d, want 5", id, got.Index)
		}
	}
}

// A fourth node joins: the leader proposes adding it, every member applies
// the change with ApplyConfChange, and the new node, started empty with
// RestartNode, receives the log and takes part in commits.
func TestNodeConfChangeAddsNode(t *testing.T) {
	c := newNodeCluster(t, 3, false)
	c.campaign(1)
	cc := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: 4}
	if err := c.member(1).node.ProposeConfChange(context.Background(), cc); err != nil {
		t.Fatal(err)
	}
	c.waitFor("conf change applied on the leader", func() bool {
		m := c.member(1)
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.confState != nil && len(m.confState.Voters) == 4
	})
	if got := c.member(1).node.Status().Config.Voters.IDs(); len(got) != 4 {
		t.Errorf("leader's voters after the change: %v", got)
	}
	c.start(4, nil)
	// With four voters a commit needs three acks, and 4 only acks once it
	// has the log: proposing also pulls it in. The leader's first probe to
	// 4 may have been lost while 4 was not running; heartbeats (ticks)
	// make it retry.
	c.propose(1, "after-join")
	c.tickUntil("after-join applied on all four", 200, func() bool {
		return len(c.running()) == 4 && c.allHaveData("after-join")
	})
	want := c.member(1).appliedLog()
	if got := c.member(4).appliedLog(); got != want {
		t.Errorf("node 4 applied\n%s\nwant\n%s", got, want)
	}
	m4 := c.member(4)
	m4.mu.Lock()
	voters := m4.confState.GetVoters()
	m4.mu.Unlock()
	if !slices.Equal(voters, []uint64{1, 2, 3, 4}) {
		t.Errorf("node 4's configuration: voters %v", voters)
	}
}

func TestNodeApplyConfChangeNil(t *testing.T) {
	c := newNodeCluster(t, 1, false)
	n := c.member(1).node
	if _, err := n.ApplyConfChange(nil); !errors.Is(err, raftpb.ErrNilConfChange) {
		t.Errorf("ApplyConfChange(nil): got %v, want ErrNilConfChange", err)
	}
	if _, err := n.ApplyConfChange((*raftpb.ConfChangeV2)(nil)); !errors.Is(err, raftpb.ErrNilConfChange) {
		t.Errorf("ApplyConfChange(nil *ConfChangeV2): got %v, want ErrNilConfChange", err)
	}
	if err := n.ProposeConfChange(context.Background(), nil); !errors.Is(err, raftpb.ErrNilConfChange) {
		t.Errorf("ProposeConfChange(nil): got %v, want ErrNilConfChange", err)
	}
}

func TestNodeTransferLeadership(t *testing.T) {
	c := newNodeCluster(t, 2, false)
	c.campaign(1)
	c.member(1).node.TransferLeadership(context.Background(), 1, 2)
	c.waitFor("node 2 to lead", func() bool { return c.leader() == 2 })
	// And back, asked on the follower, which forwards the request.
	c.member(1).node.TransferLeadership(context.Background(), 2, 1)
	c.waitFor("node 1 to lead again", func() bool { return c.leader() == 1 })
	if st := c.member(1).node.Status(); st.Term != 4 {
		t.Errorf("term after two transfers = %d, want 4", st.Term)
	}
}

func TestNodeForgetLeader(t *testing.T) {
	c := newNodeCluster(t, 2, false)
	c.campaign(1)
	// Stop the leader, so that no append or heartbeat still on its way
	// reminds node 2 of it; without ticks node 2 would otherwise keep
	// its leader indefinitely.
	c.stop(1)
	c.waitFor("no message in flight", func() bool { return c.busy.Load() == 0 })
	if err := c.member(2).node.ForgetLeader(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := c.member(2).node.Status(); st.Lead != None || st.RaftState != StateFollower {
		t.Errorf("after ForgetLeader: %v, want a follower without leader", st.BasicStatus)
	}

	lease := newNodeCluster(t, 2, false, func(cfg *Config) {
		cfg.CheckQuorum = true
		cfg.ReadOnlyOption = ReadOnlyLeaseBased
	})
	lease.campaign(1)
	if err := lease.member(2).node.ForgetLeader(context.Background()); !errors.Is(err, ErrForgetLeaderLease) {
		t.Errorf("ForgetLeader with lease reads: got %v, want ErrForgetLeaderLease", err)
	}
}

func TestNodeReportUnreachable(t *testing.T) {
	c := newNodeCluster(t, 2, false)
	c.campaign(1)
	n := c.member(1).node
	c.waitFor("node 2 replicating", func() bool {
		return n.Status().Progress[2].State.String() == "StateReplicate"
	})
	// Stop node 2 and wait until nothing is in flight, so that no late
	// response from it moves the leader back to replicating.
	c.stop(2)
	c.waitFor("no message in flight", func() bool { return c.busy.Load() == 0 })
	// Reports are handled in order with everything else the node is asked,
	// so the next Status sees it.
	n.ReportUnreachable(2)
	if got := n.Status().Progress[2].State.String(); got != "StateProbe" {
		t.Errorf("after ReportUnreachable: %s, want StateProbe", got)
	}
}

// Three nodes over channels with a hand-driven clock: a leader is elected
// by timeouts, replicates, is killed; the other two elect a new leader and
// commit more; the old leader restarts from its storage and catches up, so
// that all three have applied exactly the same log.
func TestNodeThreeNodeFailoverAndRestart(t *testing.T) {
	testThreeNodeFailover(t, false)
}

func testThreeNodeFailover(t *testing.T, async bool) {
	c := newNodeCluster(t, 3, async, func(cfg *Config) {
		cfg.PreVote = true
		cfg.CheckQuorum = true
	})
	c.tickUntil("a leader", 500, func() bool { return c.leader() != None })
	old := c.leader()
	c.propose(old, "a", "b", "c")
	c.waitFor("a, b, c applied", func() bool { return c.allHaveData("a", "b", "c") })

	c.stop(old)
	c.tickUntil("a new leader", 500, func() bool { return c.leader() != None })
	lead := c.leader()
	if lead == old {
		t.Fatalf("stopped node %d still leads", old)
	}
	c.propose(lead, "d", "e")
	c.waitFor("d, e applied by the survivors", func() bool { return c.allHaveData("d", "e") })

	c.start(old, nil)
	c.tickUntil("the old leader to catch up", 500, func() bool {
		return c.leader() == lead && c.allHaveData("a", "b", "c", "d", "e")
	})
	// One more write that needs no tick to commit everywhere, so that all
	// three have seen the same commit index.
	c.propose(lead, "f")
	c.waitFor("f applied everywhere", func() bool { return c.allHaveData("f") })
	want := c.member(lead).appliedLog()
	for _, m := range c.running() {
		if got := m.appliedLog(); got != want {
			t.Errorf("node %d applied\n%s\nleader %d applied\n%s", m.id, got, lead, want)
		}
		if got := m.data(); !slices.Equal(got, []string{"a", "b", "c", "d", "e", "f"}) {
			t.Errorf("node %d data %q", m.id, got)
		}
	}
}

func TestNodeAsyncStorageWritesSingle(t *testing.T) {
	c := newNodeCluster(t, 1, true)
	c.campaign(1)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("p%d", i))
	}
	c.propose(1, want...)
	m := c.member(1)
	c.waitFor("all proposals applied", func() bool { return m.hasData(want...) })
	if got := m.data(); !slices.Equal(got, want) {
		t.Errorf("applied %q, want %q", got, want)
	}
	// The node learns what was applied from the apply goroutine's response.
	c.waitFor("status applied", func() bool { return m.node.Status().Applied == 22 })
	// The append goroutine persists the hard state carrying the commit
	// index; it runs independently of the apply goroutine, so it may
	// finish later.
	c.waitFor("commit index persisted", func() bool {
		hs, _, err := m.storage.InitialState()
		return err == nil && hs.Commit == 22
	})
}

func TestNodeAsyncStorageWritesThreeNodes(t *testing.T) {
	c := newNodeCluster(t, 3, true)
	c.campaign(1)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("p%d", i))
	}
	// Proposed on all three members concurrently.
	var wg sync.WaitGroup
	for i, d := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.member(uint64(i%3+1)).node.Propose(context.Background(), []byte(d)); err != nil {
				t.Errorf("propose %s: %v", d, err)
			}
		}()
	}
	wg.Wait()
	c.waitFor("all proposals applied everywhere", func() bool { return c.allHaveData(want...) })
	wantLog := c.member(1).appliedLog()
	for _, m := range c.running() {
		if got := m.appliedLog(); got != wantLog {
			t.Errorf("node %d applied\n%s\nwant\n%s", m.id, got, wantLog)
		}
	}
}

func TestNodeAsyncStorageWritesFailover(t *testing.T) {
	testThreeNodeFailover(t, true)
}

func TestNodeAdvanceAsyncPanics(t *testing.T) {
	cfg := testConfig(1, NewMemoryStorage())
	cfg.AsyncStorageWrites = true
	n, err := StartNode(cfg, []Peer{{ID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	defer func() {
		if recover() == nil {
			t.Error("Advance with AsyncStorageWrites did not panic")
		}
	}()
	n.Advance()
}

// Stopping every node ends every goroutine the nodes started.
func TestNodeNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		c := newNodeCluster(t, 3, false)
		c.campaign(1)
		c.propose(2, "x")
		c.waitFor("x applied", func() bool { return c.allHaveData("x") })
		// A proposal waiting for a leader must be released by Stop too.
		n, err := StartNode(testConfig(9, NewMemoryStorage()), []Peer{{ID: 9}})
		if err != nil {
			t.Fatal(err)
		}
		result := make(chan error, 1)
		go func() { result <- n.Propose(context.Background(), []byte("y")) }()
		n.Stop()
		if err := <-result; !errors.Is(err, ErrStopped) {
			t.Errorf("waiting Propose after Stop: got %v, want ErrStopped", err)
		}
		c.stopAll()
	}()
	after := runtime.NumGoroutine()
	for i := 0; i < 100000 && after > before; i++ {
		runtime.Gosched()
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines before, %d after stopping everything:\n%s", before, after, buf)
	}
}
