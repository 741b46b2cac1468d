package raft

import (
	"context"
	"errors"
	"sync"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/raftpb"
)

// ErrStopped is returned by Node.Campaign, Node.Propose,
// Node.ProposeConfChange, Node.Step, Node.ApplyConfChange,
// Node.ForgetLeader and Node.ReadIndex once Node.Stop has been called: the
// request never reached the state machine.
var ErrStopped = errors.New("raft: stopped")

// Node is the concurrent API over the raft state machine: a RawNode run by
// a goroutine of its own, driven through channels. All methods are safe for
// concurrent use. The application still runs the loop of the package
// documentation, taking work from Ready and (without
// Config.AsyncStorageWrites) acknowledging it with Advance; ticks,
// messages and proposals may arrive from any goroutine meanwhile.
//
// Methods that take a context block until the node accepts the request,
// the context is done (they return ctx.Err()) or the node is stopped (they
// return ErrStopped). Once a request is accepted its result is the state
// machine's verdict, returned without further waiting; a context that
// expires later does not undo it.
type Node interface {
	// Tick advances the node's logical clock by one tick (see
	// Config.ElectionTick). It never blocks: if the node has fallen more
	// than a buffer's worth of ticks behind, the tick is dropped with a
	// warning, which only delays timeouts.
	Tick()

	// Campaign makes the node start an election, as RawNode.Campaign.
	Campaign(ctx context.Context) error

	// Propose proposes data for the log. While the node knows of no
	// leader it waits, since there is nowhere to send the proposal, until
	// a leader is known or ctx is done. It returns ErrProposalDropped when
	// the state machine refuses the proposal (forwarding is disabled, a
	// leadership transfer is under way, the uncommitted-size limit is
	// reached, ...). A nil error means the proposal was appended or
	// forwarded to the leader, not that it will commit: watch the
	// committed entries.
	Propose(ctx context.Context, data []byte) error

	// ProposeConfChange proposes a membership change, a *raftpb.ConfChange
	// or *raftpb.ConfChangeV2. It waits and fails like Propose. The change
	// takes effect when the application applies the committed entry with
	// ApplyConfChange.
	ProposeConfChange(ctx context.Context, cc raftpb.ConfChangeI) error

	// Step hands the node a message received from a peer or, with
	// Config.AsyncStorageWrites, a response from a local storage
	// goroutine. It returns the errors of RawNode.Step. A forwarded
	// proposal (MsgProp) does not wait for a leader: without one it fails
	// at once with ErrProposalDropped, so that a transport is never held
	// up.
	Step(ctx context.Context, m *raftpb.Message) error

	// Ready returns the channel on which the node delivers its work. The
	// application must process each Ready as the package documentation
	// describes and, unless Config.AsyncStorageWrites is on, call Advance
	// before the next one is delivered.
	Ready() <-chan Ready

	// Advance acknowledges the last Ready received: its writes are
	// durable, its messages sent and its committed entries applied. It
	// blocks until the node has taken the acknowledgement or is stopped.
	// With Config.AsyncStorageWrites Advance must not be called; it
	// panics, like RawNode.Advance.
	Advance()

	// ApplyConfChange applies a committed conf change to the node, as
	// RawNode.ApplyConfChange, and returns the new configuration. Call it
	// for every committed conf change entry, in log order. A nil change
	// returns raftpb.ErrNilConfChange.
	ApplyConfChange(cc raftpb.ConfChangeI) (*raftpb.ConfState, error)

	// TransferLeadership asks leader lead to hand leadership to
	// transferee (thesis §3.10). It returns once the request is handed to
	// the node, ctx is done or the node stopped; watch Ready's SoftState
	// to see whether the transfer happened.
	TransferLeadership(ctx context.Context, lead, transferee uint64)

	// ForgetLeader makes a follower forget its leader, as
	// RawNode.ForgetLeader.
	ForgetLeader(ctx context.Context) error

	// ReadIndex requests a linearizable read point identified by rctx, as
	// RawNode.ReadIndex: the answer arrives as a ReadState in a later
	// Ready. A request made while there is no leader is dropped; retry it.
	ReadIndex(ctx context.Context, rctx []byte) error

	// Status returns the node's current status. After Stop it returns the
	// zero Status.
	Status() Status

	// ReportUnreachable tells the leader that the last message to id could
	// not be delivered, as RawNode.ReportUnreachable.
	ReportUnreachable(id uint64)

	// ReportSnapshot reports the outcome of sending a snapshot to id, as
	// RawNode.ReportSnapshot.
	ReportSnapshot(id uint64, status SnapshotStatus)

	// Stop stops the node's goroutine and waits for it to exit. Later
	// calls, and calls racing with it, return at once. After Stop every
	// method returns ErrStopped or does nothing; Ready delivers nothing.
	Stop()
}

// tickBacklog is how many ticks Node.Tick buffers while the node's
// goroutine is busy. A node further behind than this is overloaded, and
// losing ticks only slows its timeouts down.
const tickBacklog = 128

// StartNode creates a Node for a new member of a cluster of peers (which
// must include the node itself) and starts its goroutine. Storage must be
// empty; the peers become the initial configuration as in
// RawNode.Bootstrap. It returns an error wrapping ErrInvalidConfig for an
// invalid Config, ErrBootstrapNonEmpty for a storage that holds a log, and
// an error for an empty peer list.
func StartNode(c *Config, peers []Peer) (Node, error) {
	if len(peers) == 0 {
		return nil, errors.New("raft: StartNode needs at least one peer; use RestartNode to start from storage")
	}
	rn, err := NewRawNode(c)
	if err != nil {
		return nil, err
	}
	if err := rn.Bootstrap(peers); err != nil {
		return nil, err
	}
	n := newNode(rn)
	go n.run()
	return n, nil
}

// RestartNode creates a Node from what c.Storage holds (hard state, log,
// snapshot and configuration) and starts its goroutine. The cluster's
// membership comes from the storage. It returns the errors of NewRawNode.
func RestartNode(c *Config) (Node, error) {
	rn, err := NewRawNode(c)
	if err != nil {
		return nil, err
	}
	n := newNode(rn)
	go n.run()
	return n, nil
}

// requestKind says what a request asks of the node's goroutine.
type requestKind uint8

const (
	// reqStep steps m with RawNode.Step's checks: a message from outside.
	reqStep requestKind = iota
	// reqLocalStep steps a message built by the Node's own methods
	// (MsgProp, MsgHup, MsgUnreachable, ...), without RawNode.Step's
	// checks, which reject such types when they come from outside.
	reqLocalStep
	reqConfChange
	reqStatus
	reqStop
)

// request carries a call to the node's goroutine. All kinds but
// proposals share one channel, so that the goroutine's select watches
// few channels: a select locks every channel it watches, on every turn,
// and that locking was the largest cost of a proposal's trip.
type request struct {
	kind requestKind
	m    *raftpb.Message
	// result, if not nil, receives the error of stepping m. It has a
	// buffer of one so that the goroutine never waits on the caller.
	result chan error
	// cc and ccResult are the change and answer of reqConfChange
	// (ccResult buffered like result).
	cc       raftpb.ConfChangeI
	ccResult chan confChangeResult
	// status receives the answer of reqStatus (buffered like result).
	status chan Status
}

type confChangeResult struct {
	cs  *raftpb.ConfState
	err error
}

// resultChans recycles the per-request result channels of stepping, so
// that a proposal costs no channel allocation. A channel goes back only
// once its one result has been received, so a recycled channel is empty.
var resultChans = sync.Pool{New: func() any { return make(chan error, 1) }}

// maxProposalBatch bounds how many proposals the node's goroutine takes
// in one go, without looking at its other channels, once one has arrived.
const maxProposalBatch = 64

// node implements Node. Its fields are set once by newNode, except those
// under mu.
type node struct {
	rn     *RawNode
	id     uint64
	async  bool
	logger *zap.Logger

	// mu guards rn and the fields below it. The run goroutine holds it
	// whenever it works on rn, and releases it while it waits in its
	// select. Meanwhile Propose and Step may step a message themselves
	// (stepDirect), which spares the caller two goroutine handoffs,
	// the request to the run goroutine and its answer; and Advance
	// acknowledges the Ready itself, which spares another. Handoffs, and
	// the channel locking of the run goroutine's select, were most of a
	// proposal's cost.
	mu sync.Mutex
	// offering is set while the run goroutine offers a Ready built from
	// the current state (AsyncStorageWrites mode): then nothing may
	// change the state, since acceptReady must accept exactly what was
	// offered, and proposals go through propc instead.
	offering bool
	// stopped is set once the run goroutine has returned.
	stopped bool
	// awaitingAdvance is set while a delivered Ready awaits Advance
	// (synchronous storage mode).
	awaitingAdvance bool
	// kickc wakes the run goroutine after Propose stepped a proposal
	// (AsyncStorageWrites mode), so that it offers the next Ready, and
	// after Advance changed the leader (which the self-vote of a lone
	// voter does), so that it opens or closes propc. A buffer of one is
	// enough: a pending kick already promises a look at the latest state.
	kickc chan struct{}
	// lead is the leader the run goroutine last saw, which decides
	// whether it listens on propc (set by the run goroutine only).
	lead uint64

	// propc takes local proposals. The run loop only listens on it while a
	// leader is known, which is what makes Propose wait for one.
	propc chan request
	// reqc takes every other request, Stop included.
	reqc  chan request
	tickc chan struct{}
	// readyc delivers Readys. In synchronous storage mode it has room for
	// the one Ready that may be outstanding, and whoever holds mu when
	// a Ready becomes due puts it there, accepted (deliverLocked): the
	// run goroutine, Propose or Advance. The application then receives
	// it without waiting for the run goroutine to be scheduled. In
	// AsyncStorageWrites mode the run goroutine offers each Ready in its
	// select.
	readyc chan Ready
	// done is closed when the run loop has returned.
	done chan struct{}
}

func newNode(rn *RawNode) *node {
	n := &node{
		rn:     rn,
		id:     rn.raft.id,
		async:  rn.asyncStorageWrites,
		logger: rn.raft.logger,
		kickc:  make(chan struct{}, 1),
		propc:  make(chan request),
		reqc:   make(chan request),
		tickc:  make(chan struct{}, tickBacklog),
		readyc: make(chan Ready, 1),
		done:   make(chan struct{}),
	}
	return n
}

// run is the node's goroutine. It owns the RawNode, which others touch
// only under mu while it waits: Propose and Step (stepDirect) and
// Advance, which also deliver the Readys their changes make due
// (deliverLocked, deliverAsyncLocked). Each
// channel is listened on only when the request can be served right away
// (a nil channel blocks forever in a select), so no request is ever taken
// and then parked: proposals wait for a leader in the proposer's select,
// and without AsyncStorageWrites a new Ready is delivered only after the
// last one was advanced.
func (n *node) run() {
	defer close(n.done)
	var (
		propc  chan request
		readyc chan Ready
		rd     Ready
	)
	r := n.rn.raft
	n.mu.Lock()
	defer func() {
		n.stopped = true
		n.offering = false
		// After Stop, Ready delivers nothing: take back a Ready handed
		// over but not received.
		select {
		case <-n.readyc:
		default:
		}
		n.mu.Unlock()
	}()
	for {
		readyc = nil
		if !n.async {
			n.deliverLocked()
		} else if n.rn.HasReady() {
			// Rebuilt on every turn: anything handled below may have
			// added to it, and only what is offered is accepted.
			rd = n.rn.readyWithoutAccept()
			readyc = n.readyc
		}
		if r.lead != n.lead {
			n.logLeaderChange(n.lead, r.lead, r.Term)
			n.lead = r.lead
			if n.lead == None {
				propc = nil
			} else {
				propc = n.propc
			}
		}

		n.offering = readyc != nil
		n.mu.Unlock()
		var (
			req      request
			gotReq   bool
			proposal bool
			ticked   bool
			accepted bool
		)
		select {
		case req = <-propc:
			proposal = true
		case <-n.kickc:
			// Propose or Advance changed the state; the next turn
			// rebuilds the Ready or reopens propc.
		case req = <-n.reqc:
			gotReq = true
		case <-n.tickc:
			ticked = true
		case readyc <- rd:
			accepted = true
		}
		n.mu.Lock()
		n.offering = false
		switch {
		case proposal:
			req.result <- r.Step(req.m)
			// Take the proposals already waiting too, before the next
			// Ready is built: they join it, and each costs a cheap
			// receive instead of a turn of the full select. A proposal
			// never changes the leader, so propc stays open meanwhile.
			n.takeProposals()
		case gotReq:
			if req.kind == reqStop {
				return
			}
			n.handle(req)
		case ticked:
			n.rn.Tick()
		case accepted:
			n.rn.acceptReady(rd)
			rd = Ready{}
		}
	}
}

// deliverLocked hands the next Ready to the application, accepted, if one
// is due and none awaits Advance (synchronous storage mode; mu held).
func (n *node) deliverLocked() {
	// A full readyc with no Ready awaiting Advance means Advance was
	// called for a Ready not yet received; never block on it.
	if n.awaitingAdvance || n.stopped || len(n.readyc) != 0 || !n.rn.HasReady() {
		return
	}
	n.awaitingAdvance = true
	n.readyc <- n.rn.Ready()
}

// deliverAsyncLocked is deliverLocked for AsyncStorageWrites mode, called
// by a direct step (mu held, the run goroutine not offering, so nobody
// else sends on readyc): if a Ready is due and readyc has room, it puts
// the Ready there, accepted, sparing the run goroutine a turn. It reports
// false if a due Ready is left for the run goroutine to offer.
func (n *node) deliverAsyncLocked() bool {
	if !n.rn.HasReady() {
		return true
	}
	if len(n.readyc) != 0 {
		return false
	}
	rd := n.rn.readyWithoutAccept()
	n.readyc <- rd
	n.rn.acceptReady(rd)
	return true
}

// takeProposals steps the proposals that are waiting on propc, up to
// maxProposalBatch, without blocking.
func (n *node) takeProposals() {
	r := n.rn.raft
	for range maxProposalBatch - 1 {
		select {
		case req := <-n.propc:
			req.result <- r.Step(req.m)
		default:
			return
		}
	}
}

// handle serves a request from reqc other than reqStop.
func (n *node) handle(req request) {
	switch req.kind {
	case reqConfChange:
		cs, err := n.rn.ApplyConfChange(req.cc)
		req.ccResult <- confChangeResult{cs, err}
		return
	case reqStatus:
		req.status <- getStatus(n.rn.raft)
		return
	}
	var err error
	if req.kind == reqLocalStep {
		err = n.rn.raft.Step(req.m)
	} else {
		err = n.rn.Step(req.m)
	}
	if req.result != nil {
		req.result <- err
	} else if err != nil {
		n.logger.Debug("step failed", zap.Stringer("type", req.m.Type), zap.Error(err))
	}
}

func (n *node) logLeaderChange(from, to, term uint64) {
	switch {
	case to == None:
		n.logger.Info("lost leader; proposals wait for a new one",
			zap.Uint64("lead", from), zap.Uint64("term", term))
	case from == None:
		n.logger.Info("leader elected", zap.Uint64("lead", to), zap.Uint64("term", term))
	default:
		n.logger.Info("leader changed", zap.Uint64("from", from), zap.Uint64("lead", to), zap.Uint64("term", term))
	}
}

// stepWait hands m to the run loop on c and returns the result of
// stepping it.
func (n *node) stepWait(ctx context.Context, c chan<- request, m *raftpb.Message, local bool) error {
	// Decide a request that is dead on arrival without racing it against
	// the channels: a select picks at random among ready cases.
	if err := ctx.Err(); err != nil {
		return err
	}
	kind := reqStep
	if local {
		kind = reqLocalStep
	}
	result := resultChans.Get().(chan error)
	select {
	case c <- request{kind: kind, m: m, result: result}:
	case <-ctx.Done():
		resultChans.Put(result)
		return ctx.Err()
	case <-n.done:
		resultChans.Put(result)
		return ErrStopped
	}
	// The run loop answers in the same turn that took the request, before
	// it can stop, so this wait is short and always ends.
	err := <-result
	resultChans.Put(result)
	return err
}

// send hands a message the caller does not wait on to the run loop.
func (n *node) send(ctx context.Context, m *raftpb.Message) {
	if ctx.Err() != nil {
		return
	}
	select {
	case n.reqc <- request{kind: reqLocalStep, m: m}:
	case <-ctx.Done():
	case <-n.done:
	}
}

func (n *node) Tick() {
	select {
	case n.tickc <- struct{}{}:
	case <-n.done:
	default:
		n.logger.Warn("dropped a tick: the node's goroutine is too busy to keep up",
			zap.Int("backlog", tickBacklog))
	}
}

func (n *node) Campaign(ctx context.Context) error {
	return n.stepWait(ctx, n.reqc, &raftpb.Message{Type: raftpb.MsgHup}, true)
}

func (n *node) Propose(ctx context.Context, data []byte) error {
	return n.propose(ctx, newProposal(n.id, data))
}

// propose steps proposal m directly if it can (stepDirect), else
// through the run goroutine.
func (n *node) propose(ctx context.Context, m *raftpb.Message) error {
	if done, err := n.stepDirect(ctx, m, true); done {
		return err
	}
	return n.stepWait(ctx, n.propc, m, true)
}

func (n *node) ProposeConfChange(ctx context.Context, cc raftpb.ConfChangeI) error {
	m, err := confChangeToMsg(cc)
	if err != nil {
		return err
	}
	m.From = n.id
	return n.propose(ctx, m)
}

func (n *node) Step(ctx context.Context, m *raftpb.Message) error {
	if done, err := n.stepDirect(ctx, m, false); done {
		return err
	}
	return n.stepWait(ctx, n.reqc, m, false)
}

// stepDirect steps m (a local proposal, or a message for RawNode.Step) on
// the caller's goroutine if the lock is free, the run goroutine is not
// offering a Ready and, for a proposal, a leader is known. The caller
// then wakes no other goroutine unless the step made a Ready due that
// could not be delivered here, or changed the leader, which the run
// goroutine's listening on propc follows. It reports false if it did not
// step m: the caller goes through the run goroutine, whose propc also
// waits for a leader. Under contention it does not wait for the lock:
// the run goroutine takes waiting proposals in a batch, which beats
// handing the lock around caller by caller.
func (n *node) stepDirect(ctx context.Context, m *raftpb.Message, proposal bool) (done bool, _ error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	if !n.mu.TryLock() {
		return false, nil
	}
	if n.offering || n.stopped || proposal && n.rn.raft.lead == None {
		n.mu.Unlock()
		return false, nil
	}
	var err error
	if proposal {
		err = n.rn.raft.Step(m)
	} else {
		err = n.rn.Step(m)
	}
	offered := true
	if !n.async {
		n.deliverLocked()
	} else {
		offered = n.deliverAsyncLocked()
	}
	kick := !offered || n.rn.raft.lead != n.lead
	n.mu.Unlock()
	if kick {
		n.kick()
	}
	return true, err
}

func (n *node) Ready() <-chan Ready { return n.readyc }

func (n *node) Advance() {
	if n.async {
		panic("raft: Node.Advance called with AsyncStorageWrites enabled; step the storage responses instead")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.awaitingAdvance || n.stopped {
		// Nothing delivered awaits an acknowledgement, or the node is
		// stopped: there is nothing to do.
		return
	}
	n.rn.Advance(Ready{})
	n.awaitingAdvance = false
	// The next Ready, if due, is ready for the application to take at
	// once.
	n.deliverLocked()
	if n.rn.raft.lead != n.lead {
		n.kick()
	}
}

// kick wakes the run goroutine to look at a state changed under mu.
func (n *node) kick() {
	select {
	case n.kickc <- struct{}{}:
	default:
	}
}

func (n *node) ApplyConfChange(cc raftpb.ConfChangeI) (*raftpb.ConfState, error) {
	if cc == nil || cc.AsV2() == nil {
		return nil, raftpb.ErrNilConfChange
	}
	req := request{kind: reqConfChange, cc: cc, ccResult: make(chan confChangeResult, 1)}
	select {
	case n.reqc <- req:
	case <-n.done:
		return nil, ErrStopped
	}
	res := <-req.ccResult
	return res.cs, res.err
}

func (n *node) TransferLeadership(ctx context.Context, lead, transferee uint64) {
	// From names the transferee, as in RawNode.TransferLeader; To is
	// informational, a follower forwards the request to its leader.
	n.send(ctx, &raftpb.Message{Type: raftpb.MsgTransferLeader, From: transferee, To: lead})
}

func (n *node) ForgetLeader(ctx context.Context) error {
	return n.stepWait(ctx, n.reqc, &raftpb.Message{Type: raftpb.MsgForgetLeader}, true)
}

func (n *node) ReadIndex(ctx context.Context, rctx []byte) error {
	m := &raftpb.Message{Type: raftpb.MsgReadIndex, Entries: []*raftpb.Entry{{Data: rctx}}}
	return n.stepWait(ctx, n.reqc, m, true)
}

func (n *node) Status() Status {
	c := make(chan Status, 1)
	select {
	case n.reqc <- request{kind: reqStatus, status: c}:
		return <-c
	case <-n.done:
		return Status{}
	}
}

func (n *node) ReportUnreachable(id uint64) {
	n.send(context.Background(), &raftpb.Message{Type: raftpb.MsgUnreachable, From: id})
}

func (n *node) ReportSnapshot(id uint64, status SnapshotStatus) {
	n.send(context.Background(), &raftpb.Message{Type: raftpb.MsgSnapStatus, From: id, Reject: status == SnapshotFailure})
}

func (n *node) Stop() {
	select {
	case n.reqc <- request{kind: reqStop}:
	case <-n.done:
		// Already stopped.
		return
	}
	<-n.done
}
