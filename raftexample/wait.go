package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// applyResult is what a proposer learns when its entry is applied.
type applyResult struct {
	index   uint64 // the entry's log index
	existed bool   // for a command: whether the key existed before
	err     error  // for a conf change: why it was not applied
	// appliedAt is when the entry was applied (monoNow), for commands.
	appliedAt int64
}

// waiters matches applied entries (and answered read requests) to the
// requests waiting for them, by request ID. A waiter may have a deadline,
// after which expire closes its channel: a sweep over the waiters costs
// less than a timer per request, which on a small machine was 3% of the
// server's CPU.
type waiters[T any] struct {
	mu sync.Mutex
	m  map[uint64]waiter[T]
}

type waiter[T any] struct {
	ch       chan T
	deadline time.Time // zero: none
}

// register returns the channel on which id's result will arrive. The
// caller must call cancel when it stops waiting.
func (w *waiters[T]) register(id uint64) <-chan T {
	return w.registerUntil(id, time.Time{})
}

// registerUntil is register with a deadline (zero: none): once it has
// passed, expire closes the channel.
func (w *waiters[T]) registerUntil(id uint64, deadline time.Time) <-chan T {
	ch := make(chan T, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[uint64]waiter[T])
	}
	w.m[id] = waiter[T]{ch: ch, deadline: deadline}
	w.mu.Unlock()
	return ch
}

func (w *waiters[T]) cancel(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// trigger delivers v to id's waiter, if there is one. It never blocks.
func (w *waiters[T]) trigger(id uint64, v T) {
	w.mu.Lock()
	wt, ok := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ok {
		wt.ch <- v
	}
}

// expire closes the channels of the waiters whose deadline is before now,
// and forgets them.
func (w *waiters[T]) expire(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, wt := range w.m {
		if !wt.deadline.IsZero() && wt.deadline.Before(now) {
			delete(w.m, id)
			close(wt.ch)
		}
	}
}

// sweepInterval is how often expired waiters are swept for a request
// timeout: a tenth of it, within [1ms, 100ms].
func sweepInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/10, time.Millisecond), 100*time.Millisecond)
}

// requestIDs hands out IDs for proposals and reads. They start at a random
// point so that entries proposed by an earlier run of this node (and
// replayed from the log after a restart) never match a request of this
// run.
type requestIDs struct{ next atomic.Uint64 }

func newRequestIDs() *requestIDs {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	r := &requestIDs{}
	r.next.Store(binary.LittleEndian.Uint64(b[:]))
	return r
}

func (r *requestIDs) get() uint64 { return r.next.Add(1) }

// appliedIndex is the index of the last applied entry, which requests can
// wait for.
type appliedIndex struct {
	mu      sync.Mutex
	index   uint64
	changed chan struct{} // closed and replaced whenever index grows
}

func newAppliedIndex(i uint64) *appliedIndex {
	return &appliedIndex{index: i, changed: make(chan struct{})}
}

func (a *appliedIndex) get() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index
}

func (a *appliedIndex) set(i uint64) {
	a.mu.Lock()
	if i > a.index {
		a.index = i
		close(a.changed)
		a.changed = make(chan struct{})
	}
	a.mu.Unlock()
}

// wait returns once the applied index reaches i, or ctx's error.
func (a *appliedIndex) wait(ctx context.Context, i uint64) error {
	for {
		a.mu.Lock()
		idx, ch := a.index, a.changed
		a.mu.Unlock()
		if idx >= i {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
