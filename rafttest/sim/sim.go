package sim

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// Timing, in virtual milliseconds and ticks.
const (
	tickMS        = 10
	electionTick  = 10
	heartbeatTick = 1
	// monitorEvery is the period of the deadlock check.
	monitorEvery = 100
	// stallWindow is how long the cluster may go without committing
	// anything while a quorum is up and connected and nothing disrupted
	// it, before the run reports a deadlock: thirty election timeouts.
	stallWindow = 30 * electionTick * tickMS
	// healDeadline bounds the final liveness phase: after every fault is
	// removed, a leader must commit a new write within it.
	healDeadline = 60 * electionTick * tickMS
	// maxEvents is a safety valve against runaway runs.
	maxEvents = 20_000_000
)

// Result is the outcome of one run.
type Result struct {
	Seed uint64
	// Events is the number of events processed.
	Events int64
	// Violation is the first violated property, or nil.
	Violation *Violation
	// TraceHash digests every event; equal seeds give equal hashes.
	TraceHash uint64
	// OpsChecked is the number of client operations in the history
	// checked for linearizability.
	OpsChecked int
	// Schedule is the fault schedule that ran (after Keep).
	Schedule []FaultEvent
	// Async, Lease, CheckQuorum and PreVote describe the drawn config.
	Async, Lease, CheckQuorum, PreVote bool
}

// Sim is one simulated cluster. Create it with New and run it with Run;
// a Sim runs once.
type Sim struct {
	o     Options
	now   int64
	steps int64
	ag    agenda
	nodes []*node
	net   *network
	chk   *checker
	tr    *tracer
	// Independent random streams; see rng.
	rNet, rCli, rNode *rng

	sched  []FaultEvent
	active []bool // active[i]: schedule[i] has started and not ended

	clients []*client
	hist    history
	marker  markerState

	async, lease, checkQuorum, preVote, stepDownOnRemoval bool
	maxInflight                                           int
	maxMsgSize                                            uint64

	// trap holds the schedule indexes of an armed next-leader and an
	// armed next-commit crash, or -1.
	trap [2]int

	healed       bool
	healDeadline int64
	done         bool
	lastDisrupt  int64
	lastProgress int64
	commitMax    uint64

	viol *Violation
	// hangAt and hang are a test hook: from virtual time hangAt on, the
	// listed nodes stop processing anything while they stay up and
	// connected (a hung process). Tests use it to prove that the deadlock
	// monitor fires.
	hangAt int64
	hang   []bool
	// noConfValidation is a test hook: nodes run with
	// DisableConfChangeValidation and every conf change is proposed twice
	// in a row, so leaders append one while another is pending, which the
	// checker must report.
	noConfValidation bool
	// skipDurableCheck turns off the restart-time comparison of a disk
	// with what it synced (mutation tests use it to prove that the
	// protocol-level checks catch a lying disk too).
	skipDurableCheck bool
}

// New prepares a run.
func New(o Options) (*Sim, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	s := &Sim{
		o:     o,
		net:   newNetwork(o.Nodes),
		rNet:  newRNG(o.Seed, 1),
		rCli:  newRNG(o.Seed, 2),
		rNode: newRNG(o.Seed, 3),
	}
	s.tr = newTracer(o.TailLen, o)
	s.chk = newChecker(o.Nodes, s.fail)
	// Per-run protocol options, drawn from their own stream.
	rc := newRNG(o.Seed, 4)
	s.async = o.Faults.Has(FaultAsync) && rc.chance(0.5)
	s.lease = o.Faults.Has(FaultLease) && rc.chance(0.3)
	s.checkQuorum = s.lease || rc.chance(0.5)
	s.preVote = rc.chance(0.5)
	s.stepDownOnRemoval = rc.chance(0.5)
	s.maxInflight = 1 + rc.intn(16)
	// Zero sends one entry per append: a follower's acks then climb one
	// entry at a time, which is when counting replicas of old entries
	// (paper Figure 8) can go wrong.
	s.maxMsgSize = []uint64{0, 256, 4096}[rc.intn(3)]
	full := genSchedule(newRNG(o.Seed, 5), o)
	if o.Keep != nil {
		for _, i := range o.Keep {
			if i >= 0 && i < len(full) {
				s.sched = append(s.sched, full[i])
			}
		}
	} else {
		s.sched = full
	}
	s.active = make([]bool, len(s.sched))
	s.trap = [2]int{-1, -1}
	return s, nil
}

// fail records the first violation; the run stops after the current
// event.
func (s *Sim) fail(kind, format string, args ...any) {
	if s.viol != nil {
		return
	}
	s.viol = &Violation{Kind: kind, Step: s.steps, At: s.now, Detail: fmt.Sprintf(format, args...)}
}

func (s *Sim) schedule(e event) { s.ag.push(e) }

// Run runs the simulation to its end and returns the result.
func (s *Sim) Run() (res Result) {
	res = Result{Seed: s.o.Seed, Schedule: s.sched, Async: s.async, Lease: s.lease,
		CheckQuorum: s.checkQuorum, PreVote: s.preVote}
	defer func() {
		if p := recover(); p != nil {
			s.viol = nil
			s.fail(KindPanic, "%v\n%s", p, shortStack(debug.Stack()))
		}
		res.Events = s.steps
		res.TraceHash = s.tr.hash
		if s.viol != nil {
			s.viol.Tail = s.tr.tail()
		}
		res.Violation = s.viol
	}()
	s.start()
	for s.ag.len() > 0 && s.viol == nil && !s.done && s.steps < maxEvents {
		e := s.ag.pop()
		s.now = e.at
		s.steps++
		s.handle(&e)
	}
	if s.viol == nil && !s.done {
		s.fail(KindHarness, "run ended without finishing the heal phase (events=%d)", s.steps)
	}
	if s.viol == nil && !s.o.NoLinearizability {
		res.OpsChecked = s.checkLinearizable()
	}
	return res
}

func shortStack(st []byte) string {
	lines := strings.Split(string(st), "\n")
	if len(lines) > 40 {
		lines = lines[:40]
	}
	return strings.Join(lines, "\n")
}

func (s *Sim) start() {
	peers := make([]raft.Peer, s.o.Nodes)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	rSkew := newRNG(s.o.Seed, 6)
	for i := 0; i < s.o.Nodes; i++ {
		n := &node{idx: i, id: uint64(i + 1), disk: newDisk(), tickEvery: tickMS}
		if s.o.Faults.Has(FaultSkew) {
			// Bounded skew: clocks run between 20% slow and 20% fast.
			n.tickEvery = rSkew.between(8, 12)
		}
		s.nodes = append(s.nodes, n)
	}
	for _, n := range s.nodes {
		s.boot(n, peers)
	}
	for i := range s.sched {
		s.schedule(event{at: s.sched[i].At, kind: evFault, arg: i})
	}
	for c := 0; c < numClients; c++ {
		s.clients = append(s.clients, &client{id: uint32(c)})
		s.schedule(event{at: s.rCli.between(0, 50), kind: evClient, arg: c})
	}
	s.schedule(event{at: monitorEvery, kind: evMonitor})
	s.schedule(event{at: s.o.Duration, kind: evMonitor, arg: 1}) // heal
}

func (s *Sim) handle(e *event) {
	var note string
	switch e.kind {
	case evTick:
		n := s.nodes[e.node]
		if !n.up || n.inc != e.inc {
			return
		}
		if s.hung(n) {
			s.schedule(event{at: s.now + n.tickEvery, kind: evTick, node: n.idx, inc: n.inc})
			return
		}
		n.rn.Tick()
		s.drain(n)
		s.schedule(event{at: s.now + n.tickEvery, kind: evTick, node: n.idx, inc: n.inc})
	case evDeliver:
		s.deliver(e.msg)
	case evFault:
		note = s.startFault(e.arg)
	case evFaultEnd:
		note = s.endFault(e.arg)
	case evClient:
		s.clientAct(s.clients[e.arg], e.inc)
	case evAppend:
		n := s.nodes[e.node]
		if n.up && n.inc == e.inc {
			s.doAppend(n)
		}
	case evApply:
		n := s.nodes[e.node]
		if n.up && n.inc == e.inc {
			s.doApply(n)
		}
	case evMonitor:
		switch e.arg {
		case 1:
			s.heal()
			note = "heal: all faults removed"
		case 2:
			s.refreshSnapshots()
			s.marker.probe(s, s.healDeadline)
			if !s.done && s.viol == nil {
				s.schedule(event{at: s.now + 300, kind: evMonitor, arg: 2})
			}
		default:
			s.monitor()
		}
	}
	s.tr.record(s.steps, s.now, e, note)
}

// send routes a message a node emitted.
func (s *Sim) send(from *node, m *raftpb.Message) {
	to := int(m.To) - 1
	if to < 0 || to >= len(s.nodes) {
		return
	}
	at1, at2, copies := s.net.route(s.rNet, s.now, from.idx, to)
	if copies == 0 {
		// Reported once the current Ready is done (see drain). A real
		// transport notices some losses (a refused connection), not all.
		if m.Type == raftpb.MsgSnap {
			from.snapFailed = append(from.snapFailed, m.To)
		} else if !s.net.connected(from.idx, to) && s.rNet.chance(0.5) {
			from.unreachable = append(from.unreachable, m.To)
		}
		return
	}
	s.schedule(event{at: at1, kind: evDeliver, msg: m})
	if copies == 2 {
		// Raft may modify a message it receives (it stamps a forwarded
		// proposal's entries), so the copy must not share memory.
		s.schedule(event{at: at2, kind: evDeliver, msg: cloneMsg(m)})
	}
}

func (s *Sim) deliver(m *raftpb.Message) {
	from, to := int(m.From)-1, int(m.To)-1
	n := s.nodes[to]
	ok := n.up && s.net.connected(from, to)
	if m.Type == raftpb.MsgSnap {
		if sender := s.nodes[from]; sender.up {
			st := raft.SnapshotFinish
			if !ok {
				st = raft.SnapshotFailure
			}
			defer func() {
				if sender.up {
					sender.rn.ReportSnapshot(m.To, st)
					s.drain(sender)
				}
			}()
		}
	}
	if !ok || s.hung(n) {
		return
	}
	if err := n.rn.Step(m); err != nil {
		return // stale responses from removed peers and the like
	}
	s.drain(n)
}

func (s *Sim) hung(n *node) bool {
	return s.hang != nil && s.hang[n.idx] && s.now >= s.hangAt
}

// monitor looks for a stalled cluster: one that commits nothing for a
// long time although a quorum is up and connected and no fault has
// struck for as long.
func (s *Sim) monitor() {
	s.refreshSnapshots()
	if s.healed {
		return
	}
	s.schedule(event{at: s.now + monitorEvery, kind: evMonitor})
	if s.now-s.lastProgress < stallWindow || s.now-s.lastDisrupt < stallWindow {
		return
	}
	if s.net.dropP > 0.3 || !s.quorumConnected() {
		return
	}
	s.fail(KindDeadlock, "nothing committed for %dms (since t=%d) although a quorum is up and connected since t=%d",
		s.now-s.lastProgress, s.lastProgress, s.lastDisrupt)
}

// quorumConnected reports whether the voters of the newest configuration
// have a quorum (in each half, when joint) of up nodes that can all talk
// to each other.
func (s *Sim) quorumConnected() bool {
	var cs *raftpb.ConfState
	var best uint64
	for _, n := range s.nodes {
		if n.conf != nil && (cs == nil || n.applied > best) {
			cs, best = n.conf, n.applied
		}
	}
	if cs == nil {
		return false
	}
	for side := 0; side < len(s.nodes); side++ {
		ok := func(id uint64) bool {
			i := int(id) - 1
			if i < 0 || i >= len(s.nodes) || !s.nodes[i].up || s.net.group[i] != side {
				return false
			}
			for j := range s.nodes {
				if s.nodes[j].up && s.net.group[j] == side && j != i && (!s.net.connected(i, j) || !s.net.connected(j, i)) {
					return false
				}
			}
			return true
		}
		if majority(cs.Voters, ok) && (len(cs.VotersOutgoing) == 0 || majority(cs.VotersOutgoing, ok)) {
			return true
		}
	}
	return false
}

func majority(ids []uint64, ok func(uint64) bool) bool {
	if len(ids) == 0 {
		return true
	}
	c := 0
	for _, id := range ids {
		if ok(id) {
			c++
		}
	}
	return c > len(ids)/2
}
