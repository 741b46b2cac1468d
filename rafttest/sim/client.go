package sim

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/seed901663da/raft"
)

// Client timing, in virtual ms.
const (
	clientTimeout = 1000
	thinkMin      = 1
	thinkMax      = 40
)

// op is one client operation in the history checked for
// linearizability.
type op struct {
	client int
	write  bool
	key    uint8
	value  uint64 // written, or read
	call   int64
	ret    int64 // math.MaxInt64: no answer, it may or may not have happened
	// node served the operation; index is a read's read index.
	node  uint64
	index uint64
}

type history struct {
	ops []op
	// applied maps the value of every write that took effect on some
	// node to when the first node applied it (values are unique).
	applied map[uint64]int64
}

// client issues one operation at a time to a node of its choice, and
// gives up on it after clientTimeout.
type client struct {
	id uint32
	// seq numbers the client's writes; opSeq all its operations (to tell
	// a stale timeout from the current one).
	seq   uint32
	opSeq uint32
	busy  bool
	// The operation in flight.
	write     bool
	key       uint8
	value     uint64
	node      int
	inc       uint32
	hist      int
	readCtx   uint64
	readIndex uint64
	haveIndex bool
}

// clientAct is a client's turn: time out the operation in flight, or
// start a new one.
func (s *Sim) clientAct(c *client, opSeq uint32) {
	if c.busy {
		if opSeq != c.opSeq {
			return // a timeout for an operation that has finished
		}
		// Timed out. A write may still take effect later; a read that
		// never answered says nothing and leaves the history.
		if !c.write {
			s.hist.ops[c.hist].ret = -1
		}
		c.busy = false
	} else if opSeq != c.opSeq {
		return // the timeout of an operation that has finished
	}
	if s.healed {
		return
	}
	s.startOp(c)
}

func (s *Sim) startOp(c *client) {
	r := s.rCli
	c.opSeq++
	c.write = r.chance(0.6)
	c.key = uint8(r.intn(numKeys))
	// Most requests find the leader, as a client that follows redirects
	// would; the rest go anywhere.
	c.node = r.intn(len(s.nodes))
	if r.chance(0.7) {
		if l := s.leader(); l != nil {
			c.node = l.idx
		}
	}
	n := s.nodes[c.node]
	c.inc = n.inc
	if !n.up || s.hung(n) {
		s.schedule(event{at: s.now + r.between(thinkMin, thinkMax), kind: evClient, arg: int(c.id), inc: c.opSeq})
		return
	}
	c.busy = true
	c.hist = len(s.hist.ops)
	if c.write {
		c.seq++
		c.value = uint64(c.id+1)<<32 | uint64(c.seq)
		s.hist.ops = append(s.hist.ops, op{client: int(c.id), write: true, key: c.key, value: c.value, call: s.now, ret: math.MaxInt64})
		data := cmd{client: c.id, seq: c.seq, key: c.key, value: c.value}.encode()
		if err := n.rn.Propose(data); err != nil {
			// Refused outright: it will never happen.
			s.hist.ops[c.hist].ret = -1
			c.busy = false
			s.schedule(event{at: s.now + r.between(thinkMin, thinkMax), kind: evClient, arg: int(c.id), inc: c.opSeq})
			s.drain(n)
			return
		}
	} else {
		c.readCtx = uint64(c.id+1)<<48 | uint64(c.opSeq)
		c.haveIndex = false
		s.hist.ops = append(s.hist.ops, op{client: int(c.id), key: c.key, call: s.now, ret: math.MaxInt64})
		var ctx [8]byte
		binary.LittleEndian.PutUint64(ctx[:], c.readCtx)
		n.rn.ReadIndex(ctx[:])
	}
	s.schedule(event{at: s.now + clientTimeout, kind: evClient, arg: int(c.id), inc: c.opSeq})
	s.drain(n)
}

// finish completes c's operation now and schedules its next one.
func (s *Sim) finish(c *client, value uint64) {
	o := &s.hist.ops[c.hist]
	o.ret = s.now
	o.node = uint64(c.node + 1)
	if !c.write {
		o.value = value
		o.index = c.readIndex
	}
	c.busy = false
	c.opSeq++
	s.schedule(event{at: s.now + s.rCli.between(thinkMin, thinkMax), kind: evClient, arg: int(c.id), inc: c.opSeq})
}

// onApplied answers the client whose write n just applied, if n is the
// node it asked.
func (s *Sim) onApplied(n *node, c cmd) {
	if _, ok := s.hist.applied[c.value]; !ok {
		if s.hist.applied == nil {
			s.hist.applied = make(map[uint64]int64)
		}
		s.hist.applied[c.value] = s.now
	}
	if c.client == markerClient {
		s.marker.applied(s, n, c)
		return
	}
	cl := s.clients[c.client]
	if cl.busy && cl.write && cl.seq == c.seq && cl.node == n.idx && cl.inc == n.inc {
		s.finish(cl, 0)
	}
}

func (s *Sim) onReadState(n *node, rs raft.ReadState) {
	if len(rs.RequestCtx) != 8 {
		return
	}
	ctx := binary.LittleEndian.Uint64(rs.RequestCtx)
	id := ctx>>48 - 1
	if id >= uint64(len(s.clients)) {
		return
	}
	c := s.clients[id]
	if c.busy && !c.write && c.readCtx == ctx && c.node == n.idx && c.inc == n.inc && !c.haveIndex {
		c.haveIndex, c.readIndex = true, rs.Index
	}
}

// serveReads answers the reads waiting at n for their index to be
// applied.
func (s *Sim) serveReads(n *node) {
	for _, c := range s.clients {
		if c.busy && !c.write && c.haveIndex && c.node == n.idx && c.inc == n.inc && n.applied >= c.readIndex {
			s.finish(c, n.kv.vals[c.key])
		}
	}
}

// leader returns the up node that leads the highest term, or nil.
func (s *Sim) leader() *node {
	var best *node
	var bestTerm uint64
	for _, n := range s.nodes {
		if !n.up {
			continue
		}
		st := n.rn.BasicStatus()
		if st.RaftState == raft.StateLeader && (best == nil || st.Term > bestTerm) {
			best, bestTerm = n, st.Term
		}
	}
	return best
}

// markerState drives the heal phase's liveness probe: a write that a
// leader must commit once all faults are gone.
type markerState struct {
	seq  uint32
	done bool
}

func (m *markerState) applied(s *Sim, n *node, c cmd) {
	if s.healed && !m.done {
		m.done = true
		s.done = true
		s.tr.note(s.steps, s.now, n.id, "liveness: marker write committed and applied")
	}
}

// probe proposes the marker write to the current leader, again and again
// until it is applied somewhere, and fails the run at the deadline.
func (m *markerState) probe(s *Sim, deadline int64) {
	if m.done {
		return
	}
	if s.now >= deadline {
		lead := "no leader"
		if l := s.leader(); l != nil {
			lead = "leader " + strconv.FormatUint(l.id, 10)
		}
		s.fail(KindLiveness, "no write committed within %dms after healing (%s)", healDeadline, lead)
		return
	}
	if l := s.leader(); l != nil {
		s.handOffIfRemoved(l)
		m.seq++
		_ = l.rn.Propose(cmd{client: markerClient, seq: m.seq, key: markerKey, value: math.MaxUint64 - uint64(m.seq)}.encode())
		s.drain(l)
	}
}
