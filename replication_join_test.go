package raft

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// joinTestQueued returns the messages of the given type queued in r.msgs for to.
func joinTestQueued(r *raft, to uint64, typ raftpb.MessageType) []*raftpb.Message {
	var out []*raftpb.Message
	for _, m := range r.msgs {
		if m.To == to && m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func joinTestData(ents []*raftpb.Entry) []string {
	var out []string
	for _, e := range ents {
		out = append(out, string(e.Data))
	}
	return out
}

func joinTestPropose(t *testing.T, rn *RawNode, data ...string) {
	t.Helper()
	for _, d := range data {
		if err := rn.Propose([]byte(d)); err != nil {
			t.Fatalf("propose %q: %v", d, err)
		}
	}
}

// TestJoinQueuedAppends checks that proposals made between two Readys go
// to each follower in a replicating state as one MsgApp, counted once in
// its inflight window, with one self-acknowledgement on the leader, and
// that everything still commits everywhere.
func TestJoinQueuedAppends(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	leader := nw.nodes[1].rn
	r := leader.raft
	for _, id := range []uint64{2, 3} {
		if pr := r.trk.Progress[id]; pr.State != progress.StateReplicate || pr.Inflights.Count() != 0 {
			t.Fatalf("follower %d before proposing: %s", id, pr)
		}
	}

	joinTestPropose(t, leader, "a", "b", "c")
	for _, id := range []uint64{2, 3} {
		apps := joinTestQueued(r, id, raftpb.MsgApp)
		if len(apps) != 1 {
			t.Fatalf("%d MsgApps queued for %d, want 1: %v", len(apps), id, apps)
		}
		if got := joinTestData(apps[0].Entries); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("MsgApp to %d carries %q, want a, b, c", id, got)
		}
		pr := r.trk.Progress[id]
		if pr.Inflights.Count() != 1 || pr.Inflights.Bytes() != 3 || pr.Next != r.raftLog.lastIndex()+1 {
			t.Fatalf("follower %d after joining: %s, %s; want 1 message of 3 bytes and next past the log", id, pr, pr.Inflights)
		}
	}
	if n := len(r.msgsAfterAppend); n != 1 || r.msgsAfterAppend[0].Index != r.raftLog.lastIndex() {
		t.Fatalf("self acks %v, want one acknowledging index %d", r.msgsAfterAppend, r.raftLog.lastIndex())
	}

	nw.stabilize()
	for _, id := range nw.ids {
		if got := nw.nodes[id].appliedData(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("node %d applied %q, want a, b, c", id, got)
		}
	}
}

// TestJoinQueuedAppendsLeavesHandedOutMessages checks that a MsgApp already
// handed to the application in a Ready is never extended: its entries stay
// what they were, and later proposals go in a new message.
func TestJoinQueuedAppendsLeavesHandedOutMessages(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	leader := nw.nodes[1].rn
	r := leader.raft

	joinTestPropose(t, leader, "a")
	msgs, ok := nw.nodes[1].handleReady(t)
	if !ok {
		t.Fatal("no Ready after proposing")
	}
	var sent *raftpb.Message
	for _, m := range msgs {
		if m.To == 2 && m.Type == raftpb.MsgApp {
			sent = m
		}
	}
	if sent == nil {
		t.Fatalf("no MsgApp to 2 in %v", msgs)
	}
	joinTestPropose(t, leader, "b")
	if got := joinTestData(sent.Entries); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("handed-out MsgApp now carries %q, want only a", got)
	}
	apps := joinTestQueued(r, 2, raftpb.MsgApp)
	if len(apps) != 1 || !slices.Equal(joinTestData(apps[0].Entries), []string{"b"}) {
		t.Fatalf("queued for 2 after proposing b: %v, want one MsgApp with b", apps)
	}
	if pr := r.trk.Progress[2]; pr.Inflights.Count() != 2 {
		t.Fatalf("follower 2: %s, want two messages in flight", pr.Inflights)
	}
	nw.queue = append(nw.queue, msgs...)
	nw.stabilize()
	for _, id := range nw.ids {
		if got := nw.nodes[id].appliedData(); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("node %d applied %q, want a, b", id, got)
		}
	}
}

// TestJoinQueuedAppendsRespectsMaxSizePerMsg checks that joining stops at
// MaxSizePerMsg: what does not fit starts a new message.
func TestJoinQueuedAppendsRespectsMaxSizePerMsg(t *testing.T) {
	data := func(i int) string { return fmt.Sprintf("%0100d", i) }
	// Room for two of the leader's entries, not three.
	one := entryEncodedSize(&raftpb.Entry{Term: 2, Index: 10, Data: []byte(data(0))})
	nw := newTestNetwork(t, 3, func(c *Config) { c.MaxSizePerMsg = uint64(2*one + one/2) })
	nw.campaign(1)
	leader := nw.nodes[1].rn
	r := leader.raft

	joinTestPropose(t, leader, data(1), data(2), data(3), data(4), data(5))
	for _, id := range []uint64{2, 3} {
		var sizes []int
		for _, m := range joinTestQueued(r, id, raftpb.MsgApp) {
			sizes = append(sizes, len(m.Entries))
			if s := entsSize(m.Entries); s > r.maxMsgSize {
				t.Errorf("MsgApp to %d of %d bytes, over the limit of %d", id, s, r.maxMsgSize)
			}
		}
		if !slices.Equal(sizes, []int{2, 2, 1}) {
			t.Errorf("MsgApps to %d carry %v entries, want [2 2 1]", id, sizes)
		}
		if n := r.trk.Progress[id].Inflights.Count(); n != 3 {
			t.Errorf("follower %d has %d messages in flight, want 3", id, n)
		}
	}
	nw.stabilize()
	for _, id := range nw.ids {
		if got := len(nw.nodes[id].appliedData()); got != 5 {
			t.Errorf("node %d applied %d entries, want 5", id, got)
		}
	}
}

// TestJoinQueuedAppendsCommitOnly checks that commit-index updates for a
// follower join the empty MsgApp already queued for it, which then carries
// the latest commit index.
func TestJoinQueuedAppendsCommitOnly(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	leader := nw.nodes[1].rn
	r := leader.raft
	// a and b leave in separate Readys, so each follower acks them apart.
	joinTestPropose(t, leader, "a")
	nw.processReady(1)
	joinTestPropose(t, leader, "b")
	nw.processReady(1)
	nw.deliver()
	nw.processReady(2)
	nw.processReady(3)
	// The leader steps 2's ack of a (a commits: commit-only appends are
	// queued), then 2's ack of b (b commits: the new commit index joins
	// them), then 3's acks (nothing new).
	nw.deliver()
	for _, id := range []uint64{2, 3} {
		apps := joinTestQueued(r, id, raftpb.MsgApp)
		if len(apps) != 1 || len(apps[0].Entries) != 0 || apps[0].Commit != r.raftLog.lastIndex() {
			t.Fatalf("queued for %d: %v, want one empty MsgApp with commit %d", id, apps, r.raftLog.lastIndex())
		}
	}
	nw.stabilize()
	for _, id := range nw.ids {
		if got := nw.nodes[id].appliedData(); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("node %d applied %q, want a, b", id, got)
		}
	}
}
