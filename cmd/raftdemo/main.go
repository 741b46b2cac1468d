// Command raftdemo runs a small Raft cluster inside one process and narrates
// what happens: an election, replicated writes, the leader being stopped, a
// new election among the survivors, and the old leader restarting from its
// storage and catching up.
//
// Every member is a raft.Node with a MemoryStorage; members talk over Go
// channels and tick on a real ticker. It is a quick, dependency-free look at
// the library; raftexample/ is the full key-value server on disk and gRPC.
//
//	go run ./cmd/raftdemo -nodes 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

func main() {
	nodes := flag.Int("nodes", 3, "cluster size (1-9)")
	writes := flag.Int("writes", 5, "writes per phase")
	tick := flag.Duration("tick", 10*time.Millisecond, "tick interval")
	flag.Parse()
	if *nodes < 1 || *nodes > 9 || *writes < 1 || *tick <= 0 {
		fmt.Fprintln(os.Stderr, "raftdemo: -nodes must be 1-9, -writes at least 1 and -tick positive")
		os.Exit(2)
	}
	if err := run(*nodes, *writes, *tick); err != nil {
		fmt.Fprintln(os.Stderr, "raftdemo:", err)
		os.Exit(1)
	}
}

// member is one running node and the state machine it applies to: a list
// of the values committed so far.
type member struct {
	id      uint64
	node    raft.Node
	storage *raft.MemoryStorage
	inbox   chan *raftpb.Message
	stop    chan struct{}
	done    sync.WaitGroup

	mu      sync.Mutex
	lead    uint64
	applied []string
}

type cluster struct {
	tick    time.Duration
	mu      sync.Mutex
	members map[uint64]*member
	stores  map[uint64]*raft.MemoryStorage
}

func run(n, writes int, tick time.Duration) error {
	c := &cluster{tick: tick, members: map[uint64]*member{}, stores: map[uint64]*raft.MemoryStorage{}}
	var peers []raft.Peer
	for id := 1; id <= n; id++ {
		peers = append(peers, raft.Peer{ID: uint64(id)})
	}
	for _, p := range peers {
		if err := c.start(p.ID, peers); err != nil {
			return err
		}
	}
	defer c.stopAll()

	lead, err := c.awaitLeader(0)
	if err != nil {
		return err
	}
	fmt.Printf("node %d was elected leader\n", lead)
	if err := c.write(lead, "a", writes); err != nil {
		return err
	}
	if n < 3 {
		fmt.Println("with fewer than 3 nodes there is no failover to show; done")
		return nil
	}

	fmt.Printf("stopping leader %d\n", lead)
	c.halt(lead)
	next, err := c.awaitLeader(lead)
	if err != nil {
		return err
	}
	fmt.Printf("node %d was elected leader among the survivors\n", next)
	if err := c.write(next, "b", writes); err != nil {
		return err
	}

	fmt.Printf("restarting node %d from its storage\n", lead)
	if err := c.start(lead, nil); err != nil {
		return err
	}
	want := c.get(next).values()
	if err := c.await(fmt.Sprintf("node %d to catch up", lead), func() bool {
		return slices.Equal(c.get(lead).values(), want)
	}); err != nil {
		return err
	}
	fmt.Printf("node %d caught up: it applied the same %d values as the leader\n", lead, len(want))
	return nil
}

func (c *cluster) start(id uint64, peers []raft.Peer) error {
	c.mu.Lock()
	s := c.stores[id]
	if s == nil {
		s = raft.NewMemoryStorage()
		c.stores[id] = s
	}
	c.mu.Unlock()
	cfg := &raft.Config{
		ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: s,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256,
		PreVote: true, CheckQuorum: true,
	}
	var node raft.Node
	var err error
	if peers != nil {
		node, err = raft.StartNode(cfg, peers)
	} else {
		node, err = raft.RestartNode(cfg)
	}
	if err != nil {
		return fmt.Errorf("starting node %d: %w", id, err)
	}
	m := &member{id: id, node: node, storage: s, inbox: make(chan *raftpb.Message, 1024), stop: make(chan struct{})}
	c.mu.Lock()
	c.members[id] = m
	c.mu.Unlock()
	m.done.Add(2)
	go c.loop(m)
	go c.receive(m)
	return nil
}

// loop is the application's Ready loop: persist, send, apply, advance.
func (c *cluster) loop(m *member) {
	defer m.done.Done()
	ticker := time.NewTicker(c.tick)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			m.node.Tick()
		case rd := <-m.node.Ready():
			if rd.SoftState != nil {
				m.mu.Lock()
				m.lead = rd.SoftState.Lead
				m.mu.Unlock()
			}
			if rd.Snapshot != nil {
				must(m.storage.ApplySnapshot(rd.Snapshot))
			}
			must(m.storage.Append(rd.Entries))
			if rd.HardState != nil {
				must(m.storage.SetHardState(rd.HardState))
			}
			for _, msg := range rd.Messages {
				c.send(msg)
			}
			m.apply(rd.CommittedEntries)
			m.node.Advance()
		case <-m.stop:
			return
		}
	}
}

func (m *member) apply(ents []*raftpb.Entry) {
	for _, e := range ents {
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) > 0 {
				m.mu.Lock()
				m.applied = append(m.applied, string(e.Data))
				m.mu.Unlock()
			}
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			must(err)
			if _, err := m.node.ApplyConfChange(cc); err != nil && !errors.Is(err, raft.ErrStopped) {
				must(err)
			}
		}
	}
}

func (c *cluster) receive(m *member) {
	defer m.done.Done()
	for {
		select {
		case msg := <-m.inbox:
			// Errors here are a peer's problem (a stale or unknown sender),
			// not ours; a real server would log them.
			_ = m.node.Step(context.Background(), msg)
		case <-m.stop:
			return
		}
	}
}

// send delivers msg if its recipient is running and keeping up, and drops
// it otherwise, as a network would.
func (c *cluster) send(msg *raftpb.Message) {
	c.mu.Lock()
	dst := c.members[msg.To]
	c.mu.Unlock()
	if dst == nil {
		return
	}
	select {
	case dst.inbox <- msg:
	default:
	}
}

func (c *cluster) get(id uint64) *member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id]
}

func (m *member) values() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.applied)
}

func (m *member) leader() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lead
}

// halt stops a member; its storage survives, like a disk.
func (c *cluster) halt(id uint64) {
	c.mu.Lock()
	m := c.members[id]
	delete(c.members, id)
	c.mu.Unlock()
	if m == nil {
		return
	}
	m.node.Stop()
	close(m.stop)
	m.done.Wait()
}

func (c *cluster) stopAll() {
	c.mu.Lock()
	var ids []uint64
	for id := range c.members {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.halt(id)
	}
}

// awaitLeader waits until every running member agrees on a leader other
// than not.
func (c *cluster) awaitLeader(not uint64) (uint64, error) {
	var lead uint64
	err := c.await("a leader", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		lead = 0
		for _, m := range c.members {
			l := m.leader()
			if l == 0 || l == not || (lead != 0 && l != lead) || c.members[l] == nil {
				return false
			}
			lead = l
		}
		return lead != 0
	})
	return lead, err
}

// write proposes count values on the leader and waits until every running
// member has applied them.
func (c *cluster) write(lead uint64, prefix string, count int) error {
	var vals []string
	for i := 1; i <= count; i++ {
		v := fmt.Sprintf("%s%d", prefix, i)
		vals = append(vals, v)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.get(lead).node.Propose(ctx, []byte(v))
		cancel()
		if err != nil {
			return fmt.Errorf("proposing %s: %w", v, err)
		}
	}
	err := c.await("the writes to apply everywhere", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.members {
			if !containsAll(m.values(), vals) {
				return false
			}
		}
		return true
	})
	if err == nil {
		fmt.Printf("wrote %v through node %d; every running node applied them\n", vals, lead)
	}
	return err
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// await polls cond until it holds or ten seconds pass. A demo may poll; the
// library's tests do not.
func (c *cluster) await(what string, cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(c.tick)
	}
	return nil
}

func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("raftdemo: MemoryStorage refused a Ready the library produced: %v", err))
	}
}
