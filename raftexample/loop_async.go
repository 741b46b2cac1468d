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
// Ready carries its storage work as local messages:
//
//   - each MsgStorageAppend goes to the append goroutine (runAppends),
//     which commits it to pebble, and then to the sync goroutine
//     (runSyncs), which waits for its WAL sync and then delivers its
//     Responses: the acknowledgements and votes that had to wait for the
//     write go to peers, the append's own ack back to raft. The append
//     goroutine writes whatever has queued up meanwhile as one group, and
//     does not wait for the sync under way, so a group's sync starts as
//     soon as the one before ends; the disk's sync rate does not bound
//     the rate of Readys.
//   - each MsgStorageApply is applied by the loop itself, after it has
//     sent the Ready's messages: its entries are already durable, and
//     applying them (map updates, waking their clients) is quick, quicker
//     than handing them to another goroutine and waiting for it to be
//     scheduled. The loop also restores the snapshots the append
//     goroutine persisted, when it asks (restoreC), and takes the state
//     machine's snapshots, as in the synchronous loop.
//
// A leader's appends thereby overlap its own fsync, and a follower's
// acknowledgement leaves as soon as its fsync is done rather than at its
// loop's next turn. The append goroutine's queue never blocks the loop: a
// loop blocked on a full queue while the goroutine behind it waits for
// the node to take a stepped response would deadlock.

// appendQueue is an unbounded FIFO of MsgStorageAppend messages from the
// node loop to the append goroutine. Raft's flow control bounds how much
// can be outstanding.
type appendQueue struct {
	mu    sync.Mutex
	msgs  []*raftpb.Message
	ready chan struct{} // capacity 1: msgs is not empty
}

func newAppendQueue() *appendQueue {
	return &appendQueue{ready: make(chan struct{}, 1)}
}

func (q *appendQueue) push(m *raftpb.Message) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// takeAll returns everything queued. The queue starts a new array: the
// sync goroutine holds the returned one until it is done with it.
func (q *appendQueue) takeAll() []*raftpb.Message {
	q.mu.Lock()
	msgs := q.msgs
	q.msgs = nil
	q.mu.Unlock()
	return msgs
}

// restoreReq asks the node loop to restore a persisted snapshot.
type restoreReq struct {
	snap *raftpb.Snapshot
	done chan error
}

// handleReadyAsync sends rd's messages, hands its appends to the append
// goroutine and applies its committed entries. It never waits for the
// disk.
func (s *server) handleReadyAsync(rd *raft.Ready) error {
	start := time.Now()
	s.noteSoftState(rd.SoftState)
	peers := s.sendBuf[:0]
	appended := false
	for _, m := range rd.Messages {
		switch m.To {
		case raft.LocalAppendThread:
			s.appendQ.push(m)
			appended = true
		case raft.LocalApplyThread:
		default:
			peers = append(peers, m)
		}
	}
	s.trans.send(peers) // it keeps the messages, not the slice
	clear(peers)
	s.sendBuf = peers
	s.triggerReads(rd.ReadStates)
	// Applied after the sends, which do not wait for them.
	applied := false
	for _, m := range rd.Messages {
		if m.To != raft.LocalApplyThread {
			continue
		}
		if err := s.applyTimed(m.Entries); err != nil {
			return err
		}
		s.deliverLocal(m.Responses)
		applied = true
	}
	if applied {
		s.maybeSnapshot()
	}
	s.batcher.readyDone(appended)
	s.metrics.readyLatency.Observe(time.Since(start).Seconds())
	return nil
}

// syncPipelineDepth bounds the groups whose write the append goroutine
// has committed and whose sync the sync goroutine has not yet seen end.
const syncPipelineDepth = 64

// syncJob is a group of appends on its way through the sync goroutine:
// committed to pebble, its sync (if any) pending. A job with a barrier
// carries no group: the sync goroutine closes the barrier once every job
// before it is done.
type syncJob struct {
	msgs    []*raftpb.Message
	pending pendingSync
	start   time.Time
	barrier chan struct{}
}

// runAppends is the append goroutine (see above). It commits each group
// of appends to pebble without waiting for the WAL sync, and hands it to
// the sync goroutine (runSyncs), which waits for the sync and then
// delivers the group's responses. A group that arrives while a sync is
// under way is thereby already in the WAL when that sync ends, and pebble
// starts the next one at once, instead of after two goroutine handoffs
// (this goroutine waking to write the group, pebble's WAL writer waking
// to sync it). The disk's syncs follow each other back to back, and a
// follower's acknowledgement waits for at most the sync under way and its
// own.
func (s *server) runAppends() {
	jobs := make(chan syncJob, syncPipelineDepth)
	var syncer sync.WaitGroup
	syncer.Go(func() { s.runSyncs(jobs) })
	defer func() {
		close(jobs)
		syncer.Wait()
	}()
	queue := func(j syncJob) bool {
		select {
		case jobs <- j:
			return true
		case <-s.bgCtx.Done():
		case <-s.fatal:
		}
		return false
	}
	for {
		select {
		case <-s.appendQ.ready:
		case <-s.bgCtx.Done():
			return
		case <-s.fatal:
			return
		}
		msgs := s.appendQ.takeAll()
		if hasSnapshot(msgs) {
			// A snapshot replaces the log and the state machine; the
			// groups before it are done first, and it is written and
			// restored whole before anything after it.
			barrier := make(chan struct{})
			if !queue(syncJob{barrier: barrier}) {
				return
			}
			select {
			case <-barrier:
			case <-s.bgCtx.Done():
				return
			}
			s.batcher.beginWrite()
			err := s.persistAppends(msgs)
			s.batcher.flush()
			s.batcher.endWrite()
			if err != nil {
				if !errors.Is(err, errStoreStopped) {
					s.fail(fmt.Errorf("persisting: %w", err))
				}
				return
			}
			continue
		}
		s.batcher.beginWrite()
		start := time.Now()
		p, err := s.stageAppends(msgs)
		if err != nil {
			s.batcher.endWrite()
			s.fail(fmt.Errorf("persisting: %w", err))
			return
		}
		if !queue(syncJob{msgs: msgs, pending: p, start: start}) {
			_ = p.wait() // a batch is closed only after its sync
			s.batcher.endWrite()
			return
		}
	}
}

// runSyncs is the sync goroutine: in the order the append goroutine
// committed them, it waits for each group's sync and then delivers its
// responses. After a failed sync it only drains: the node has failed.
func (s *server) runSyncs(jobs <-chan syncJob) {
	failed := false
	for j := range jobs {
		if j.barrier != nil {
			close(j.barrier)
			continue
		}
		if mutDeliverBeforeSync {
			for _, m := range j.msgs {
				s.deliverLocal(m.Responses)
			}
			j.msgs = nil
		}
		err := j.pending.wait()
		if err == nil && !failed && s.bgCtx.Err() == nil {
			s.metrics.diskWriteLatency.Observe(time.Since(j.start).Seconds())
			for _, m := range j.msgs {
				s.deliverLocal(m.Responses)
			}
			s.batcher.flush()
		} else if err != nil && !failed {
			failed = true
			s.fail(fmt.Errorf("persisting: %w", err))
		}
		s.batcher.endWrite()
	}
}

func hasSnapshot(msgs []*raftpb.Message) bool {
	for _, m := range msgs {
		if m.Snapshot != nil {
			return true
		}
	}
	return false
}

// stageAppends commits msgs (which hold no snapshot) to pebble, synced if
// any of them needs it, and returns the pending sync.
func (s *server) stageAppends(msgs []*raftpb.Message) (pendingSync, error) {
	needSync, last := s.appendsNeedSync(msgs)
	if last < 0 {
		return pendingSync{}, nil
	}
	p, err := s.storage.saveAppendsNoWait(msgs[:last+1], needSync)
	if err != nil {
		return pendingSync{}, err
	}
	s.notePersisted(msgs[:last+1])
	return p, nil
}

// appendsNeedSync reports whether writing msgs needs a sync, and the
// index of the last message that has anything to write (-1 if none).
// Term and vote are compared with the last written ones: a group that
// keeps them relies on the write that set them, which is synced first
// (pebble's WAL is ordered), and whose responses are delivered first.
func (s *server) appendsNeedSync(msgs []*raftpb.Message) (needSync bool, last int) {
	last = -1
	for i, m := range msgs {
		logChange := len(m.Entries) > 0 || m.Snapshot != nil
		if !logChange && m.Term == 0 {
			continue // nothing to write
		}
		last = i
		// A change of commit index alone need not be synced.
		if logChange || m.Term != s.persistedTerm || m.Vote != s.persistedVote {
			needSync = true
		}
	}
	return needSync, last
}

// notePersisted records the last hard state among written msgs.
func (s *server) notePersisted(msgs []*raftpb.Message) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.Term != 0 {
			s.persistedTerm, s.persistedVote = m.Term, m.Vote
			s.metrics.term.Set(float64(m.Term))
			s.metrics.commitIndex.Set(float64(m.Commit))
			return
		}
	}
}

// persistAppends writes msgs, syncs once if any of them needs it, and
// then delivers their responses in order, restoring a snapshot among them
// first.
func (s *server) persistAppends(msgs []*raftpb.Message) error {
	needSync, last := s.appendsNeedSync(msgs)
	if last >= 0 {
		start := time.Now()
		if err := s.storage.saveAppends(msgs[:last+1], needSync); err != nil {
			return err
		}
		s.metrics.diskWriteLatency.Observe(time.Since(start).Seconds())
		s.notePersisted(msgs[:last+1])
	}
	for _, m := range msgs {
		if m.Snapshot != nil {
			if err := s.restoreInLoop(m.Snapshot); err != nil {
				return err
			}
		}
		s.deliverLocal(m.Responses)
	}
	return nil
}

// restoreInLoop has the node loop restore snap, which replaces the
// state machine before any entry after it is applied: raft hands those
// out only once this append is acknowledged, after the restore.
func (s *server) restoreInLoop(snap *raftpb.Snapshot) error {
	req := restoreReq{snap: snap, done: make(chan error, 1)}
	select {
	case s.restoreC <- req:
	case <-s.bgCtx.Done():
		return errStoreStopped
	}
	select {
	case err := <-req.done:
		return err
	case <-s.bgCtx.Done():
		return errStoreStopped
	}
}

var errStoreStopped = errors.New("stopped")

// deliverLocal delivers the responses of a local storage message: those
// to this node are stepped into raft, the others sent to peers.
func (s *server) deliverLocal(resps []*raftpb.Message) {
	for i, r := range resps {
		if r.To != s.cfg.id {
			s.trans.send(resps[i : i+1])
			continue
		}
		// Only a stopped node refuses a local response; the node is then
		// going away with this goroutine.
		_ = s.node.Step(s.bgCtx, r)
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
