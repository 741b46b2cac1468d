package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// With asynchronous storage writes (the default; see the library's
// Config.AsyncStorageWrites) the node loop never waits for the disk. Each
// Ready hands its storage work to two goroutines as local messages:
//
//   - the append goroutine (runAppends) persists each MsgStorageAppend,
//     then delivers its Responses: the acknowledgements and votes that
//     had to wait for the write go to peers, the append's own ack back to
//     raft. It writes whatever has queued up while it was syncing as one
//     group, with a single fsync at the end, so the disk's sync rate no
//     longer bounds the rate of Readys.
//   - the apply goroutine (runApplies) applies each MsgStorageApply's
//     committed entries, answers their clients, and steps the ack back.
//     It owns the state machine's snapshots (maybeSnapshot), and restores
//     the snapshots the append goroutine persisted, in its queue's order,
//     so a snapshot replaces the state machine before any later entry is
//     applied.
//
// The loop sends every other message at once. A leader's appends thereby
// overlap its own fsync, and a follower's acknowledgement leaves as soon
// as its fsync is done rather than at its loop's next turn. Neither
// goroutine's queue blocks the loop: a loop blocked on a full queue while
// the goroutine behind it waits for the node to take a stepped response
// would deadlock.

// workQueue is an unbounded FIFO from the node loop to a storage
// goroutine. Raft's flow control bounds how much can be outstanding.
type workQueue[T any] struct {
	mu    sync.Mutex
	items []T
	ready chan struct{} // capacity 1: items is not empty
}

func newWorkQueue[T any]() *workQueue[T] {
	return &workQueue[T]{ready: make(chan struct{}, 1)}
}

func (q *workQueue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// takeAll returns everything queued, reusing buf's array for the next
// call's queue.
func (q *workQueue[T]) takeAll(buf []T) []T {
	clear(buf)
	q.mu.Lock()
	items := q.items
	q.items = buf[:0]
	q.mu.Unlock()
	return items
}

// applyWork is one item of the apply goroutine's queue: committed entries
// to apply (msg), or a persisted snapshot to restore (snap, answered on
// done).
type applyWork struct {
	msg  *raftpb.Message
	snap *raftpb.Snapshot
	done chan error
}

// handleReadyAsync hands rd's storage work to the append and apply
// goroutines and sends the rest. It never blocks on the disk.
func (s *server) handleReadyAsync(rd *raft.Ready) {
	start := time.Now()
	s.noteSoftState(rd.SoftState)
	peers := s.sendBuf[:0]
	for _, m := range rd.Messages {
		switch m.To {
		case raft.LocalAppendThread:
			s.appendQ.push(m)
		case raft.LocalApplyThread:
			s.applyQ.push(applyWork{msg: m})
		default:
			peers = append(peers, m)
		}
	}
	s.trans.send(peers) // it keeps the messages, not the slice
	clear(peers)
	s.sendBuf = peers
	s.triggerReads(rd.ReadStates)
	s.metrics.readyLatency.Observe(time.Since(start).Seconds())
}

// runAppends is the append goroutine (see above).
func (s *server) runAppends() {
	defer s.storeWG.Done()
	var buf []*raftpb.Message
	for {
		select {
		case <-s.appendQ.ready:
		case <-s.storeStop:
			return
		}
		msgs := s.appendQ.takeAll(buf)
		buf = msgs
		s.batcher.setBusy(true)
		err := s.persistAppends(msgs)
		s.batcher.flush()
		s.batcher.setBusy(false)
		if err != nil {
			if !errors.Is(err, errStoreStopped) {
				s.fail(fmt.Errorf("persisting: %w", err))
			}
			return
		}
	}
}

// persistAppends writes msgs, syncs once if any of them needs it, and
// then delivers their responses in order.
func (s *server) persistAppends(msgs []*raftpb.Message) error {
	// Messages after the last that stages anything only wait for it.
	needSync, last := false, -1
	for i, m := range msgs {
		if len(m.Entries) > 0 || m.Snapshot != nil || m.Term != 0 {
			last = i
		}
		if len(m.Entries) > 0 || m.Snapshot != nil ||
			m.Term != 0 && (m.Term != s.persistedTerm || m.Vote != s.persistedVote) {
			needSync = true
		}
	}
	if last >= 0 {
		start := time.Now()
		if err := s.storage.saveAppends(msgs[:last+1], needSync); err != nil {
			return err
		}
		s.metrics.diskWriteLatency.Observe(time.Since(start).Seconds())
	}
	for i := last; i >= 0; i-- {
		if m := msgs[i]; m.Term != 0 {
			s.persistedTerm, s.persistedVote = m.Term, m.Vote
			s.metrics.term.Set(float64(m.Term))
			s.metrics.commitIndex.Set(float64(m.Commit))
			break
		}
	}
	for _, m := range msgs {
		if m.Snapshot != nil {
			if err := s.restoreViaApply(m.Snapshot); err != nil {
				return err
			}
		}
		s.deliverLocal(m.Responses)
	}
	return nil
}

// restoreViaApply has the apply goroutine restore snap, after whatever it
// was given before, and waits for it.
func (s *server) restoreViaApply(snap *raftpb.Snapshot) error {
	done := make(chan error, 1)
	s.applyQ.push(applyWork{snap: snap, done: done})
	select {
	case err := <-done:
		return err
	case <-s.storeStop:
		return errStoreStopped
	}
}

var errStoreStopped = errors.New("stopped")

// deliverLocal delivers the responses of a local storage message: those
// to this node are stepped into raft, the others sent to peers.
func (s *server) deliverLocal(resps []*raftpb.Message) {
	var peers []*raftpb.Message
	for _, r := range resps {
		if r.To != s.cfg.id {
			peers = append(peers, r)
			continue
		}
		// Only a stopped node refuses a local response; the node is then
		// going away with this goroutine.
		_ = s.node.Step(s.storeCtx, r)
	}
	s.trans.send(peers)
}

// runApplies is the apply goroutine (see above). In this mode it, not the
// node loop, owns the snapshot state (snapIndex, snapInFlight, confState).
func (s *server) runApplies() {
	defer s.storeWG.Done()
	var buf []applyWork
	for {
		select {
		case <-s.applyQ.ready:
		case res := <-s.snapDone:
			s.finishSnapshot(res)
			s.maybeSnapshot()
			continue
		case <-s.storeStop:
			return
		}
		work := s.applyQ.takeAll(buf)
		buf = work
		for _, w := range work {
			if w.snap != nil {
				err := s.restoreSnapshot(w.snap)
				w.done <- err
				if err != nil {
					return // the append goroutine reports it
				}
				continue
			}
			if err := s.applyTimed(w.msg.Entries); err != nil {
				s.fail(err)
				return
			}
			s.deliverLocal(w.msg.Responses)
		}
		s.maybeSnapshot()
	}
}

// fail records err as the reason this node stopped serving and stops the
// node loop; the node then neither votes nor acknowledges anything.
func (s *server) fail(err error) {
	err = fmt.Errorf("node loop stopped: %w", err)
	if !s.failed.CompareAndSwap(nil, &err) {
		return
	}
	s.logf("%v", err)
	close(s.fatal)
}
