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
	"github.com/seed901663da/raft/raftpb"
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

// submitted returns the proposals of data submitted to b, failing the
// test if b refuses one.
func submitted(t *testing.T, b *batcher, data ...[]byte) []*pendingProposal {
	t.Helper()
	var ps []*pendingProposal
	for _, d := range data {
		p, err := b.submit(d)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// noFailure fails the test if proposing any of ps was reported failed.
func noFailure(t *testing.T, ps ...*pendingProposal) {
	t.Helper()
	for _, p := range ps {
		select {
		case err := <-p.done:
			t.Fatalf("proposing %x failed: %v", p.data, err)
		default:
		}
	}
}

// TestBatcherBatches checks that writes arriving while the node is busy
// writing wait for its flush and go out together as one entry, and that a
// write arriving while it is idle goes at once, alone.
func TestBatcherBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		close(n.release)
		b := newBatcher(n, time.Minute, func() bool { return true })
		defer b.close()
		const waiting = 10
		b.beginWrite()
		var data [][]byte
		for i := range waiting {
			data = append(data, putData(i))
		}
		ps := submitted(t, b, data...)
		synctest.Wait()
		if len(n.proposed) != 0 {
			t.Fatalf("%d proposals while the node was busy; want none before its flush", len(n.proposed))
		}
		b.flush()
		if len(n.proposed) != 1 {
			t.Fatalf("flush made %d proposals; want one batch", len(n.proposed))
		}
		cmds, err := decodeEntry(n.proposed[0])
		if err != nil || len(cmds) != waiting {
			t.Fatalf("the batch holds %d commands (%v), want %d", len(cmds), err, waiting)
		}
		noFailure(t, ps...)
		b.readyHandled() // as the synchronous loop ends the Ready
		last := submitted(t, b, putData(99))
		synctest.Wait()
		if len(n.proposed) != 2 {
			t.Fatalf("%d proposals; the write on an idle node did not go alone", len(n.proposed))
		}
		if cmds, err := decodeEntry(n.proposed[1]); err != nil || len(cmds) != 1 || cmds[0].reqID != 99 {
			t.Fatalf("second proposal: %+v, %v", cmds, err)
		}
		noFailure(t, last...)
	})
}

// TestBatcherNoLeader checks that a flush never proposes without a known
// leader (raft would block it) but leaves it to the batcher's goroutine.
func TestBatcherNoLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		b := newBatcher(n, time.Minute, func() bool { return false })
		defer b.close()
		b.beginWrite()
		ps := submitted(t, b, putData(1))
		synctest.Wait()
		b.flush() // returns at once: the goroutine proposes
		synctest.Wait()
		if len(n.proposed) != 1 {
			t.Fatalf("%d proposals, want 1 by the batcher's goroutine", len(n.proposed))
		}
		close(n.release)
		synctest.Wait()
		noFailure(t, ps...)
	})
}

// TestBatcherTimeouts checks the outcomes a requester can meet: raft not
// answering within the batcher's timeout (errHandedOff: the write may
// still happen); giving up after a batch took the write (abandon says it
// was taken); and giving up before (abandon drops it, and it is never
// proposed).
func TestBatcherTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		b := newBatcher(n, time.Second, func() bool { return true })
		defer b.close()

		// Taken by the batcher's goroutine, then stuck in Propose.
		first := submitted(t, b, putData(1))[0]
		synctest.Wait()
		if !b.abandon(first) {
			t.Error("abandon of a write a batch took: not taken")
		}
		time.Sleep(2 * time.Second)
		select {
		case err := <-first.done:
			if !errors.Is(err, errHandedOff) {
				t.Errorf("write stuck in Propose past the timeout: %v, want errHandedOff", err)
			}
		default:
			t.Error("write stuck in Propose past the timeout: no error reported")
		}
		// Waiting for a flush, abandoned before it.
		b.beginWrite()
		second := submitted(t, b, putData(2))[0]
		if b.abandon(second) {
			t.Error("abandon of a write no batch took: taken")
		}
		close(n.release)
		b.flush()
		synctest.Wait()
		if len(n.proposed) != 1 {
			t.Errorf("%d proposals; the abandoned write was proposed after its requester gave up", len(n.proposed))
		}
	})
}

// failingNode is a raft.Node whose Propose records the data and fails.
type failingNode struct {
	raft.Node
	mu       sync.Mutex
	proposed [][]byte
}

func (n *failingNode) Propose(_ context.Context, data []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.proposed = append(n.proposed, data)
	return raft.ErrProposalDropped
}

// proposedCommands returns the request IDs of the commands in each
// proposal, failing the test on one it cannot decode.
func proposedCommands(t *testing.T, proposals [][]byte) [][]uint64 {
	t.Helper()
	var ids [][]uint64
	for _, p := range proposals {
		cmds, err := decodeEntry(p)
		if err != nil {
			t.Fatal(err)
		}
		var one []uint64
		for _, c := range cmds {
			one = append(one, c.reqID)
		}
		ids = append(ids, one)
	}
	return ids
}

// TestBatcherWaitsForProposedReady checks that once a batch has gone to
// raft, the writes that follow wait until the node loop has handled its
// Ready: for the flush after the disk write when that Ready handed the
// append goroutine an append (a leader's proposal), at once when it did
// not (a follower's, which is only forwarded); and that a failed proposal,
// after which no Ready comes, does not hold them.
func TestBatcherWaitsForProposedReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		close(n.release)
		b := newBatcher(n, time.Minute, func() bool { return true })
		defer b.close()
		submitted(t, b, putData(1)) // idle: goes at once
		synctest.Wait()
		submitted(t, b, putData(2), putData(3))
		synctest.Wait()
		if got := proposedCommands(t, n.proposed); !slices.EqualFunc(got, [][]uint64{{1}}, slices.Equal) {
			t.Fatalf("proposals before the first batch's Ready was handled: %v, want [[1]]", got)
		}
		b.readyDone(true) // it made an append: the flush after it proposes
		synctest.Wait()
		if len(n.proposed) != 1 {
			t.Fatalf("%d proposals after a Ready with an append; want the writes kept for the flush", len(n.proposed))
		}
		b.beginWrite()
		b.flush()
		b.endWrite()
		synctest.Wait()
		submitted(t, b, putData(4))
		synctest.Wait()
		b.readyDone(false) // no append: what waits goes at once
		synctest.Wait()
		want := [][]uint64{{1}, {2, 3}, {4}}
		if got := proposedCommands(t, n.proposed); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("proposals: %v, want %v", got, want)
		}

		f := &failingNode{}
		fb := newBatcher(f, time.Minute, func() bool { return true })
		defer fb.close()
		first := submitted(t, fb, putData(1))
		synctest.Wait()
		if err := <-first[0].done; !errors.Is(err, raft.ErrProposalDropped) {
			t.Fatalf("failed proposal reported %v", err)
		}
		submitted(t, fb, putData(2))
		synctest.Wait()
		if len(f.proposed) != 2 {
			t.Fatalf("%d proposals; a write after a failed proposal waited for a Ready that never comes", len(f.proposed))
		}
	})
}

// TestBatcherAbsorb checks that the commands a follower forwards, plain
// or batched, join the leader's next batch in their order, ahead of the
// local writes that came after them, and that what absorb must not take
// (other entry types, malformed batches, empty entries, a closed batcher)
// is refused whole.
func TestBatcherAbsorb(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &gatedNode{release: make(chan struct{})}
		close(n.release)
		b := newBatcher(n, time.Minute, func() bool { return true })
		b.beginWrite()
		fwdBatch := encodeBatch(nil, []*pendingProposal{{data: putData(2)}, {data: putData(3)}})
		ents := []*raftpb.Entry{{Type: raftpb.EntryNormal, Data: putData(1)}, {Type: raftpb.EntryNormal, Data: fwdBatch}}
		if n := b.absorb(ents); n != 3 {
			t.Fatalf("absorb queued %d commands of 3", n)
		}
		local := submitted(t, b, putData(4))
		synctest.Wait()
		if len(n.proposed) != 0 {
			t.Fatalf("%d proposals while busy", len(n.proposed))
		}
		b.flush()
		if got, want := proposedCommands(t, n.proposed), [][]uint64{{1, 2, 3, 4}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("proposals: %v, want %v", got, want)
		}
		noFailure(t, local...)

		good := &raftpb.Entry{Type: raftpb.EntryNormal, Data: putData(5)}
		for name, e := range map[string]*raftpb.Entry{
			"conf change":     {Type: raftpb.EntryConfChange, Data: []byte{1}},
			"conf change v2":  {Type: raftpb.EntryConfChangeV2, Data: []byte{1}},
			"empty":           {Type: raftpb.EntryNormal},
			"malformed batch": {Type: raftpb.EntryNormal, Data: fwdBatch[:len(fwdBatch)-3]},
		} {
			if n := b.absorb([]*raftpb.Entry{good, e}); n != 0 {
				t.Errorf("absorb took %d commands of a message holding a %s entry", n, name)
			}
		}
		if n := b.absorb(nil); n != 0 {
			t.Errorf("absorb took %d commands of a message without entries", n)
		}
		b.flush()
		if len(n.proposed) != 1 {
			t.Errorf("%d proposals; a refused message left commands behind", len(n.proposed))
		}
		b.close()
		if n := b.absorb([]*raftpb.Entry{good}); n != 0 {
			t.Errorf("absorb took %d commands after close", n)
		}
	})
}
