package etcd36

import (
	"fmt"
	"testing"

	raft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/seed901663da/raft/bench/benchkit"
)

func newConfig(id uint64, st raft.Storage) *raft.Config {
	return &raft.Config{
		ID:              id,
		ElectionTick:    benchkit.ElectionTick,
		HeartbeatTick:   benchkit.HeartbeatTick,
		Storage:         st,
		MaxSizePerMsg:   benchkit.MaxSizePerMsg,
		MaxInflightMsgs: benchkit.MaxInflightMsgs,
		Logger:          quiet,
	}
}

// quiet keeps logging out of the measurements. This library is measured
// with its default, a no-op zap logger that formats nothing; etcd's
// default logger writes to stderr, and even pointed at io.Discard it would
// still format every line, so etcd gets a logger that does nothing either
// (Fatal and Panic keep their meaning).
var quiet raft.Logger = nopLogger{}

type nopLogger struct{}

func (nopLogger) Debug(...any)                   {}
func (nopLogger) Debugf(string, ...any)          {}
func (nopLogger) Info(...any)                    {}
func (nopLogger) Infof(string, ...any)           {}
func (nopLogger) Warning(...any)                 {}
func (nopLogger) Warningf(string, ...any)        {}
func (nopLogger) Error(...any)                   {}
func (nopLogger) Errorf(string, ...any)          {}
func (nopLogger) Fatal(v ...any)                 { panic(fmt.Sprint(v...)) }
func (nopLogger) Fatalf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }
func (nopLogger) Panic(v ...any)                 { panic(fmt.Sprint(v...)) }
func (nopLogger) Panicf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }

func peers(n int) []raft.Peer {
	ps := make([]raft.Peer, n)
	for i := range ps {
		ps[i].ID = uint64(i + 1)
	}
	return ps
}

// store is one node's MemoryStorage plus what the application has applied.
type store struct {
	ms        *raft.MemoryStorage
	applied   uint64
	compacted uint64
}

// persist saves a Ready's hard state and entries, the same way in every
// implementation: set hard state, then append.
func (s *store) persist(hs raftpb.HardState, ents []raftpb.Entry) error {
	if !raft.IsEmptyHardState(hs) {
		if err := s.ms.SetHardState(hs); err != nil {
			return err
		}
	}
	return s.ms.Append(ents)
}

// apply "applies" committed entries: it counts the ones carrying a
// proposal and compacts the storage now and then.
func (s *store) apply(ents []raftpb.Entry) (proposals int, err error) {
	for i := range ents {
		if e := &ents[i]; e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			proposals++
		}
	}
	if len(ents) > 0 {
		s.applied = ents[len(ents)-1].Index
	}
	if s.applied-s.compacted >= benchkit.CompactEvery {
		s.compacted = s.applied - benchkit.CompactKeep
		err = s.ms.Compact(s.compacted)
	}
	return proposals, err
}

// cluster is a set of RawNodes driven from one goroutine. Messages are
// delivered as soon as the Ready that carries them has been handled.
type cluster struct {
	tb     testing.TB
	nodes  []*raft.RawNode
	stores []*store
	// applied counts proposals applied by node 1.
	applied int
	// leader is the ID of the last node that reported itself leader.
	leader uint64
	// buf holds the messages of the Ready being handled.
	buf []raftpb.Message
}

// etcd draws election timeouts from a global random source; there is no
// per-node source to inject, so newCluster takes no seed.
func newCluster(tb testing.TB, n int) *cluster {
	c := &cluster{tb: tb}
	for i := range n {
		id := uint64(i + 1)
		st := &store{ms: raft.NewMemoryStorage()}
		rn, err := raft.NewRawNode(newConfig(id, st.ms))
		if err != nil {
			tb.Fatal(err)
		}
		if err := rn.Bootstrap(peers(n)); err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, rn)
		c.stores = append(c.stores, st)
	}
	// Persist and apply the bootstrap entries: a node with unapplied conf
	// changes may not campaign.
	c.pump()
	return c
}

// elect makes node 1 leader.
func (c *cluster) elect() {
	if err := c.nodes[0].Campaign(); err != nil {
		c.tb.Fatal(err)
	}
	c.pump()
	if c.leader != 1 {
		c.tb.Fatalf("node 1 did not become leader (leader %d)", c.leader)
	}
}

// pump handles Readys and delivers messages until no node has work left.
func (c *cluster) pump() {
	for busy := true; busy; {
		busy = false
		for i, rn := range c.nodes {
			if rn.HasReady() {
				busy = true
				c.handle(i, rn)
			}
		}
	}
}

func (c *cluster) handle(i int, rn *raft.RawNode) {
	rd := rn.Ready()
	if rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader {
		c.leader = uint64(i + 1)
	}
	st := c.stores[i]
	if err := st.persist(rd.HardState, rd.Entries); err != nil {
		c.tb.Fatal(err)
	}
	n, err := st.apply(rd.CommittedEntries)
	if err != nil {
		c.tb.Fatal(err)
	}
	if i == 0 {
		c.applied += n
	}
	c.buf = append(c.buf[:0], rd.Messages...)
	rn.Advance(rd)
	for j, m := range c.buf {
		if err := c.nodes[m.To-1].Step(m); err != nil {
			c.tb.Fatal(err)
		}
		c.buf[j] = raftpb.Message{}
	}
}

// tick ticks every node once.
func (c *cluster) tick() {
	for _, rn := range c.nodes {
		rn.Tick()
	}
}
