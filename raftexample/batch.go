package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// Writes that arrive together are proposed together, as one raft entry.
// Raft's per-entry costs then fall on the batch rather than on every
// write: the leader sends one MsgApp per follower per proposal and each
// follower answers each one, every entry is a pebble key and a record on
// the peer streams, and every proposal is a trip to the node's goroutine.
// No write waits for a batch to fill: a batch is every write that came in
// while the node was busy writing to disk (see batcher), so under light
// load it is one write.
//
// A batch entry is opBatch, the number of commands (uvarint), then each
// command's encoding (see command.marshal) prefixed by its length
// (uvarint). A batch of one is sent as the plain command.
const opBatch opType = 3

// Bounds on one batch: commands, and bytes of encoded commands. The byte
// bound keeps a batch of large values from making one huge entry; a
// single command over it still goes alone.
const (
	maxProposalBatch      = 256
	maxProposalBatchBytes = 256 << 10
)

// errHandedOff is reported on a pendingProposal's done when raft did not
// answer in time: the write may or may not take effect.
var errHandedOff = errors.New("the write was handed to raft but not confirmed in time")

// pendingProposal is one command waiting in the batcher.
type pendingProposal struct {
	data []byte
	// done receives the error of proposing the batch that held it, if
	// that failed; success is not reported (the requester waits for the
	// write to be applied anyway). Buffered, so the batcher never waits
	// for the requester. Nil for a forwarded command, whose requester is
	// on another node.
	done chan error
	// taken is set when a batch took it; cancelled when its requester
	// gave up first. Guarded by batcher.mu.
	taken, cancelled bool
	// proposedAt is when a batch took it (monoNow), read by the
	// requester once its write is applied.
	proposedAt atomic.Int64
}

// report tells p's requester, if it is on this node, that proposing p
// failed.
func (p *pendingProposal) report(err error) {
	if p.done != nil {
		p.done <- err
	}
}

// batcher gathers the writes that arrive while the node is busy writing
// to disk, and proposes them as one entry when the write is done (see
// flush): in the synchronous loop, during a Ready, just before Advance;
// with asynchronous writes, during the append goroutine's fsync, once it
// is done. Proposed any earlier, they would still have waited for that
// disk write, so the batch costs them nothing. Writes that arrive while
// the node is idle (see idle) are proposed at once by the batcher's
// goroutine.
type batcher struct {
	node    raft.Node
	timeout time.Duration
	// hasLeader says whether the node knows a leader; without one a
	// proposal blocks, which the node loop must not do.
	hasLeader func() bool

	mu      sync.Mutex
	pending []*pendingProposal
	// writes counts the disk writes under way (beginWrite): the node
	// loop's Ready in the synchronous loop, the append goroutine's groups
	// (which overlap) with asynchronous writes. Writes arriving while any
	// is under way wait for a flush.
	writes int
	// proposed is set when a batch went to raft and cleared when the node
	// loop has handled the Ready it made (readyDone). Writes arriving in
	// between wait: proposed at once, each would make an entry, a Ready
	// and an append to every follower of its own, to reach the same disk
	// write as the batch before them (see readyDone).
	proposed bool
	closed   bool

	kick chan struct{} // capacity 1: pending needs proposing now
	stop chan struct{}
	wg   sync.WaitGroup
}

// loopProposeTimeout bounds how long the node loop waits for raft to take
// a batch when it believed a leader was known.
const loopProposeTimeout = 50 * time.Millisecond

func newBatcher(node raft.Node, timeout time.Duration, hasLeader func() bool) *batcher {
	b := &batcher{node: node, timeout: timeout, hasLeader: hasLeader,
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	b.wg.Add(1)
	go b.run()
	return b
}

// close stops the batcher; proposals not yet taken fail. It returns once
// the batcher's goroutine has, so the node must be stopped first or a
// proposal in progress may hold it until its timeout.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	left := b.take()
	b.mu.Unlock()
	for _, p := range left {
		p.report(raft.ErrStopped)
	}
	close(b.stop)
	b.wg.Wait()
}

// submit queues the encoded command data for the next batch and returns
// at once. p.done receives the error if proposing its batch fails: a
// wakeup on success as well cost the requester a trip through the
// scheduler for nothing. Errors: raft.ErrStopped after close; on p.done,
// raft's, or errHandedOff when raft did not answer in time.
func (b *batcher) submit(data []byte) (*pendingProposal, error) {
	p := &pendingProposal{data: data, done: make(chan error, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, raft.ErrStopped
	}
	b.pending = append(b.pending, p)
	b.unlockAndWake(true)
	return p, nil
}

// absorb queues the commands of entries that a follower forwarded to
// this node, its leader, for the next batch, as if they were local writes
// whose requester waits elsewhere (on the follower, for them to be
// applied). Stepped into raft one message at a time, each forwarded
// proposal would make an entry, a Ready and an append to every follower
// of its own; joined with the writes that arrive during the same disk
// write, they share one. It returns the number of commands queued: none
// when there are no entries, when an entry is not a normal one or its
// batch framing is malformed, or after close. The caller then steps the
// message into raft as it is.
func (b *batcher) absorb(ents []*raftpb.Entry) int {
	var parts [][]byte
	for _, e := range ents {
		if e.Type != raftpb.EntryNormal || len(e.Data) == 0 {
			return 0
		}
		p, err := splitEntry(e.Data)
		if err != nil {
			return 0
		}
		if parts == nil {
			parts = p // the usual single entry: no copy
		} else {
			parts = append(parts, p...)
		}
	}
	b.mu.Lock()
	if b.closed || len(parts) == 0 {
		b.mu.Unlock()
		return 0
	}
	for _, data := range parts {
		b.pending = append(b.pending, &pendingProposal{data: data})
	}
	b.unlockAndWake(true)
	return len(parts)
}

// abandon is called by a requester that stops waiting for p. It reports
// whether a batch already took p (which may then still take effect);
// otherwise p is dropped and never proposed.
func (b *batcher) abandon(p *pendingProposal) (taken bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.taken {
		return true
	}
	p.cancelled = true
	return false
}

// idle reports whether a write arriving now should be proposed at once:
// no disk write or proposal is under way that a later flush or readyDone
// will follow. b.mu is held.
func (b *batcher) idle() bool { return b.writes == 0 && !b.proposed }

// unlockAndWake releases b.mu, which the caller holds, and, if wake is
// set, the node is idle and writes are pending, has the batcher's
// goroutine propose them.
func (b *batcher) unlockAndWake(wake bool) {
	now := wake && b.idle() && len(b.pending) > 0
	b.mu.Unlock()
	if now {
		b.signal()
	}
}

func (b *batcher) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// take removes and returns the pending proposals. b.mu is held.
func (b *batcher) take() []*pendingProposal {
	var batch []*pendingProposal
	var now int64
	if len(b.pending) > 0 {
		now = monoNow()
	}
	for _, p := range b.pending {
		if !p.cancelled {
			p.proposedAt.Store(now)
			p.taken = true
			batch = append(batch, p)
		}
	}
	clear(b.pending)
	b.pending = b.pending[:0]
	return batch
}

func (b *batcher) run() {
	defer b.wg.Done()
	for {
		select {
		case <-b.kick:
		case <-b.stop:
			return
		}
		b.proposePending(b.timeout)
	}
}

// proposePending proposes what is pending, marking it proposed until the
// node loop has handled its Ready (see readyDone); a failed proposal makes
// no Ready, so it clears the mark itself.
func (b *batcher) proposePending(timeout time.Duration) {
	b.mu.Lock()
	batch := b.take()
	b.proposed = b.proposed || len(batch) > 0
	b.mu.Unlock()
	if !b.proposeBatches(batch, timeout) {
		b.readyDone(false)
	}
}

// beginWrite is called when the node starts a disk write (the node loop
// a Ready, or the append goroutine a group), and endWrite when it is
// done. While any is under way, writes wait for flush; when the last
// ends, what is still pending goes at once.
func (b *batcher) beginWrite() {
	b.mu.Lock()
	b.writes++
	b.mu.Unlock()
}

func (b *batcher) endWrite() {
	b.mu.Lock()
	b.writes--
	b.unlockAndWake(true)
}

// readyDone is called by the node loop when it has handled a Ready, which
// holds whatever was proposed before it; appended says whether the Ready
// handed an append to the append goroutine, which flushes once that is
// written. A leader's proposal makes such an append, so the writes that
// arrive meanwhile wait for that disk write and go as one batch; a
// follower's proposal is only forwarded, and what waits goes at once.
// It is also called when proposing failed, as raft then makes no Ready.
func (b *batcher) readyDone(appended bool) {
	b.mu.Lock()
	b.proposed = false
	b.unlockAndWake(!appended)
}

// readyHandled ends a Ready of the synchronous loop: its disk write is
// done (endWrite), and as that loop flushes at every Ready, what it
// proposed need not hold later writes (readyDone(false)).
func (b *batcher) readyHandled() {
	b.mu.Lock()
	b.writes--
	b.proposed = false
	b.unlockAndWake(true)
}

// flush proposes, when a disk write is done (before Advance in the
// synchronous loop), the writes that arrived during it, so that they make
// the next Ready. Without a known leader, proposing could block; the
// batcher's goroutine does it.
func (b *batcher) flush() {
	if !b.hasLeader() {
		b.signal()
		return
	}
	b.proposePending(loopProposeTimeout)
}

// proposeBatches proposes batch as entries of at most maxProposalBatch
// commands and maxProposalBatchBytes, and tells each requester the
// outcome of its entry. It reports whether every entry was proposed.
func (b *batcher) proposeBatches(batch []*pendingProposal, timeout time.Duration) bool {
	ok := true
	for len(batch) > 0 {
		n, size := 1, len(batch[0].data)
		for n < len(batch) && n < maxProposalBatch && size+len(batch[n].data) <= maxProposalBatchBytes {
			size += len(batch[n].data)
			n++
		}
		part := batch[:n]
		batch = batch[n:]
		data := part[0].data
		if n > 1 {
			data = encodeBatch(make([]byte, 0, size+8*n), part)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := b.node.Propose(ctx, data)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// Raft may or may not have taken it.
			err = errHandedOff
		}
		if err != nil {
			ok = false
			for _, p := range part {
				p.report(err)
			}
		}
	}
	return ok
}

func encodeBatch(b []byte, batch []*pendingProposal) []byte {
	b = append(b, byte(opBatch))
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, p := range batch {
		b = binary.AppendUvarint(b, uint64(len(p.data)))
		b = append(b, p.data...)
	}
	return b
}

func isBatch(data []byte) bool { return len(data) > 0 && opType(data[0]) == opBatch }

// splitEntry returns the encoded commands in a normal entry's data, as
// slices of it: the data itself, or a batch's commands. It checks the
// batch framing only, not the commands.
func splitEntry(data []byte) ([][]byte, error) {
	if !isBatch(data) {
		return [][]byte{data}, nil
	}
	b := data[1:]
	n, k := binary.Uvarint(b)
	// Every command takes at least two bytes (length and op).
	if k <= 0 || n == 0 || n > uint64(len(b))/2 {
		return nil, errors.New("malformed batch: bad command count")
	}
	b = b[k:]
	parts := make([][]byte, 0, n)
	for i := range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("malformed batch: command %d of %d overruns the entry", i+1, n)
		}
		parts = append(parts, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("malformed batch: %d bytes after %d commands", len(b), n)
	}
	return parts, nil
}

// decodeEntry returns the commands in a normal entry's data: one, or a
// batch's. A malformed entry is refused whole, so that every replica
// skips the same commands. Values are copied out of a batch: a value kept
// in the key-value map must not pin the whole batch's memory.
func decodeEntry(data []byte) ([]command, error) {
	if !isBatch(data) {
		c, err := unmarshalCommand(data)
		if err != nil {
			return nil, err
		}
		return []command{c}, nil
	}
	parts, err := splitEntry(data)
	if err != nil {
		return nil, err
	}
	cmds := make([]command, 0, len(parts))
	for i, part := range parts {
		c, err := unmarshalCommand(part)
		if err != nil {
			return nil, fmt.Errorf("malformed batch: command %d of %d: %w", i+1, len(parts), err)
		}
		c.value = append([]byte(nil), c.value...)
		cmds = append(cmds, c)
	}
	return cmds, nil
}
