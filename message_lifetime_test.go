package raft

import (
	"fmt"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// TestHandedOutMessagesStayValid checks that a message handed to the
// application is never changed afterwards, however long it is kept: the
// messages raft carves from shared arrays (newMessage) and the appends it
// extends while queued (joinQueuedAppend) must only ever touch messages
// not yet handed out. Every message of a busy run is described when its
// Ready is handled and again at the end; the descriptions must match, and
// so must each Ready's slice of messages (queueMsg carves those from shared
// arrays too).
func TestHandedOutMessagesStayValid(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	type kept struct {
		m    *raftpb.Message
		desc string
	}
	var all []kept
	type keptSlice struct {
		s, copy []*raftpb.Message
	}
	var handed []keptSlice
	describe := func(m *raftpb.Message) string {
		return fmt.Sprintf("%s index=%d commit=%d entries=%d", raftpb.DescribeMessage(m, nil), m.Index, m.Commit, len(m.Entries))
	}
	leader := nw.nodes[1].rn
	for round := range 50 {
		for i := range round%4 + 1 {
			if err := leader.Propose(fmt.Appendf(nil, "r%d-%d", round, i)); err != nil {
				t.Fatal(err)
			}
		}
		if round%7 == 0 {
			nw.tickAll(1) // heartbeats and their responses too
		}
		for busy := true; busy; {
			busy = false
			for _, id := range nw.ids {
				msgs, ok := nw.nodes[id].handleReady(t)
				if !ok {
					continue
				}
				busy = true
				for _, m := range msgs {
					all = append(all, kept{m, describe(m)})
				}
				handed = append(handed, keptSlice{msgs, append([]*raftpb.Message(nil), msgs...)})
				nw.queue = append(nw.queue, msgs...)
			}
			if nw.deliver() {
				busy = true
			}
		}
	}
	if len(all) < 200 {
		t.Fatalf("only %d messages; the run is too quiet to test anything", len(all))
	}
	for i, k := range handed {
		for j := range k.s {
			if k.s[j] != k.copy[j] {
				t.Fatalf("slot %d of the messages of handled Ready %d was overwritten", j, i)
			}
		}
	}
	seen := map[*raftpb.Message]bool{}
	for i, k := range all {
		if seen[k.m] {
			t.Fatalf("message %d (%s) was handed out twice", i, k.desc)
		}
		seen[k.m] = true
		if got := describe(k.m); got != k.desc {
			t.Fatalf("message %d changed after it was handed out:\nwas %s\nnow %s", i, k.desc, got)
		}
	}
}

// TestMemoryStorageHardStateCopies checks that MemoryStorage keeps its own
// copy of the hard state and hands out copies: neither the caller's value
// nor a value returned earlier changes with later writes.
func TestMemoryStorageHardStateCopies(t *testing.T) {
	ms := NewMemoryStorage()
	in := &raftpb.HardState{Term: 2, Vote: 1, Commit: 0}
	if err := ms.SetHardState(in); err != nil {
		t.Fatal(err)
	}
	in.Term = 9 // the caller reuses its value
	got, _, err := ms.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	if got.Term != 2 || got.Vote != 1 {
		t.Fatalf("InitialState = %v after the caller changed its copy, want term 2 vote 1", got)
	}
	if err := ms.SetHardState(&raftpb.HardState{Term: 3}); err != nil {
		t.Fatal(err)
	}
	if got.Term != 2 || got.Vote != 1 {
		t.Fatalf("value returned earlier changed to %v by a later SetHardState", got)
	}
	got.Term = 7 // the caller modifies what it was handed
	again, _, _ := ms.InitialState()
	if again.Term != 3 || again.Vote != 0 {
		t.Fatalf("InitialState = %v, want term 3 vote 0", again)
	}
}

// TestReadyHardStatesStayValid checks that the hard state of a Ready, which
// newHardState carves from shared arrays, is never changed or handed out
// again by later Readys, so the application may keep it.
func TestReadyHardStatesStayValid(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	type kept struct {
		hs   *raftpb.HardState
		desc string
	}
	var all []kept
	leader := nw.nodes[1].rn
	for i := range 40 {
		if err := leader.Propose(fmt.Appendf(nil, "p%d", i)); err != nil {
			t.Fatal(err)
		}
		for busy := true; busy; {
			busy = false
			for _, id := range nw.ids {
				rn := nw.nodes[id].rn
				if !rn.HasReady() {
					continue
				}
				busy = true
				rd := rn.Ready()
				if rd.HardState != nil {
					all = append(all, kept{rd.HardState, raftpb.DescribeHardState(rd.HardState)})
				}
				if err := nw.nodes[id].storage.Append(rd.Entries); err != nil {
					t.Fatal(err)
				}
				nw.queue = append(nw.queue, rd.Messages...)
				rn.Advance(rd)
			}
			if nw.deliver() {
				busy = true
			}
		}
	}
	if len(all) < 3*40 {
		t.Fatalf("only %d hard states for 40 commits on 3 nodes", len(all))
	}
	seen := map[*raftpb.HardState]bool{}
	for i, k := range all {
		if seen[k.hs] {
			t.Fatalf("hard state %d (%s) was handed out twice", i, k.desc)
		}
		seen[k.hs] = true
		if got := raftpb.DescribeHardState(k.hs); got != k.desc {
			t.Fatalf("hard state %d changed after it was handed out: was %s, now %s", i, k.desc, got)
		}
	}
}
