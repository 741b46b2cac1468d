package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed901663da/raft"
)

func TestBatchEncoding(t *testing.T) {
	cmds := []command{
		{op: opPut, reqID: 1, key: "a", value: []byte("x")},
		{op: opDelete, reqID: 2, key: "b"},
		{op: opPut, reqID: 3, key: "", value: make([]byte, 300)},
	}
	var batch []*pendingProposal
	for _, c := range cmds {
		batch = append(batch, &pendingProposal{data: c.marshal()})
	}
	data := encodeBatch(nil, batch)
	got, err := decodeEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cmds) {
		t.Fatalf("decoded %d commands, want %d", len(got), len(cmds))
	}
	for i := range cmds {
		if got[i].op != cmds[i].op || got[i].reqID != cmds[i].reqID || got[i].key != cmds[i].key || string(got[i].value) != string(cmds[i].value) {
			t.Errorf("command %d = %+v, want %+v", i, got[i], cmds[i])
		}
	}
	// Values are copied out of the entry.
	data[len(data)-1] ^= 0xff
	if got[2].value[len(got[2].value)-1] != 0 {
		t.Errorf("a decoded value aliases the entry's data")
	}
	// A plain command is an entry of one.
	if one, err := decodeEntry(cmds[0].marshal()); err != nil || len(one) != 1 || one[0].reqID != 1 {
		t.Errorf("plain command: %+v, %v", one, err)
	}

	good := encodeBatch(nil, batch)
	for name, b := range map[string][]byte{
		"no count":         {byte(opBatch)},
		"zero commands":    {byte(opBatch), 0},
		"count too large":  append([]byte{byte(opBatch), 100}, good[2:]...),
		"count too small":  append([]byte{byte(opBatch), 2}, good[2:]...),
		"truncated":        good[:len(good)-5],
		"length overrun":   {byte(opBatch), 1, 50, byte(opPut), 1},
		"nested batch":     {byte(opBatch), 1, 3, byte(opBatch), 1, 0},
		"bad inner op":     {byte(opBatch), 1, 3, 9, 1, 0},
		"huge length":      {byte(opBatch), 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"malformed inner":  {byte(opBatch), 1, 2, byte(opPut), 0x80},
		"empty inner":      {byte(opBatch), 1, 0, 0},
		"garbage count":    {byte(opBatch), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"trailing garbage": append(slices.Clone(good), 7),
	} {
		if cmds, err := decodeEntry(b); err == nil {
			t.Errorf("%s: decodeEntry(%v) accepted: %+v", name, b, cmds)
		}
	}
}

// gatedNode is a raft.Node whose Propose records the data and then waits
// for release to be closed or to deliver.
type gatedNode struct {
	raft.Node
	mu       sync.Mutex
	proposed [][]byte
	release  chan struct{}
}

func (n *gatedNode) Propose(ctx context.Context, data []byte) error {
	n.mu.Lock()
	n.proposed = append(n.proposed, data)
	n.mu.Unlock()
	select {
	case <-n.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func putData(i int) []byte {
	return (&command{op: opPut, reqID: uint64(i), key: fmt.Sprint("k", i)}).marshal()
}

// TestBatcherBatches checks that writes arriving while the node loop is
// busy wait for its flush and go out together as one entry, from the
// loop, and that a write arriving while the loop is idle goes at once,
// alone.
func TestBatcherBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		close(n.release)
		b := newBatcher(n, time.Minute, func() bool { return true })
		defer b.close()
		const waiting = 10
		errs := make(chan error, waiting)
		b.setBusy(true)
		for i := range waiting {
			go func() { errs <- b.propose(context.Background(), putData(i)) }()
		}
		synctest.Wait()
		if len(n.proposed) != 0 {
			t.Fatalf("%d proposals while the loop was busy; want none before its flush", len(n.proposed))
		}
		b.flush()
		if len(n.proposed) != 1 {
			t.Fatalf("flush made %d proposals; want one batch", len(n.proposed))
		}
		cmds, err := decodeEntry(n.proposed[0])
		if err != nil || len(cmds) != waiting {
			t.Fatalf("the batch holds %d commands (%v), want %d", len(cmds), err, waiting)
		}
		for range waiting {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		b.setBusy(false)
		if err := b.propose(context.Background(), putData(99)); err != nil {
			t.Fatal(err)
		}
		if len(n.proposed) != 2 {
			t.Fatalf("%d proposals; the write on an idle loop did not go alone", len(n.proposed))
		}
		if cmds, err := decodeEntry(n.proposed[1]); err != nil || len(cmds) != 1 || cmds[0].reqID != 99 {
			t.Fatalf("second proposal: %+v, %v", cmds, err)
		}
	})
}

// TestBatcherNoLeader checks that the node loop's flush never proposes
// without a known leader (raft would block it) but leaves it to the
// batcher's goroutine.
func TestBatcherNoLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		b := newBatcher(n, time.Minute, func() bool { return false })
		defer b.close()
		b.setBusy(true)
		errc := make(chan error, 1)
		go func() { errc <- b.propose(context.Background(), putData(1)) }()
		synctest.Wait()
		b.flush() // returns at once: the goroutine proposes
		synctest.Wait()
		if len(n.proposed) != 1 {
			t.Fatalf("%d proposals, want 1 by the batcher's goroutine", len(n.proposed))
		}
		close(n.release)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatcherTimeouts checks what a requester is told when its context
// ends: before a batch took the write, that nothing was proposed (the
// context's error), and the write is then never proposed; after, that the
// outcome is unknown.
func TestBatcherTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		b := newBatcher(n, time.Minute, func() bool { return true })
		defer b.close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()

		// Taken by the batcher's goroutine, then stuck in Propose.
		first := make(chan error, 1)
		go func() { first <- b.propose(ctx, putData(1)) }()
		synctest.Wait()
		// Waiting for a flush that comes too late.
		b.setBusy(true)
		second := make(chan error, 1)
		go func() { second <- b.propose(ctx, putData(2)) }()
		synctest.Wait()
		time.Sleep(2 * time.Second)
		if err := <-first; !errors.Is(err, errHandedOff) {
			t.Errorf("write taken by a batch: %v, want errHandedOff", err)
		}
		if err := <-second; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("write never taken: %v, want the context's error", err)
		}
		close(n.release)
		synctest.Wait()
		b.flush()
		if len(n.proposed) != 1 {
			t.Errorf("%d proposals; the abandoned write was proposed after its requester gave up", len(n.proposed))
		}
	})
}
