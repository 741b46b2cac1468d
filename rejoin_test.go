package raft

import (
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// TestRejoinStaleResponses covers the "rejoin" bug class: a node is removed
// and re-added (with a wiped disk) within one term, and responses its
// earlier incarnation sent arrive afterwards. They must not touch the new
// progress record: a stale MsgAppResp would claim entries the new node does
// not have (and could let the leader commit without a real quorum), a stale
// MsgVoteResp would count a vote the new node never cast.
func TestRejoinStaleResponses(t *testing.T) {
	nw := newTestNetwork(t, 4)
	nw.campaign(1)
	for i := 0; i < 3; i++ {
		if err := nw.nodes[1].rn.Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	nw.stabilize()
	lead := nw.nodes[1].rn.raft
	oldMatch := lead.trk.Progress[4].Match

	// Capture responses from node 4's current incarnation without
	// delivering them: a heartbeat and an append.
	_ = nw.nodes[1].rn.Propose([]byte("y"))
	nw.processReady(1)
	var stale []*raftpb.Message
	msgs := nw.queue
	nw.queue = nil
	for _, m := range msgs {
		if m.To != 4 {
			nw.queue = append(nw.queue, m)
			continue
		}
		_ = nw.nodes[4].rn.Step(m)
		nw.processReady(4)
		for _, r := range nw.queue {
			if r.From == 4 {
				stale = append(stale, r)
			}
		}
		kept := nw.queue[:0]
		for _, r := range nw.queue {
			if r.From != 4 {
				kept = append(kept, r)
			}
		}
		nw.queue = kept
	}
	if len(stale) == 0 {
		t.Fatal("captured no responses from node 4")
	}

	// Remove node 4, then add it back as a brand-new node with an empty
	// disk.
	propose := func(cc *raftpb.ConfChange) {
		t.Helper()
		if err := nw.nodes[1].rn.ProposeConfChange(cc); err != nil {
			t.Fatal(err)
		}
		nw.stabilize()
	}
	nw.down[4] = true
	propose(&raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeId: 4})
	if _, ok := lead.trk.Progress[4]; ok {
		t.Fatal("node 4 still tracked after removal")
	}
	propose(&raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: 4})
	pr := lead.trk.Progress[4]
	if pr == nil {
		t.Fatal("node 4 not tracked after re-adding")
	}
	if pr.Match != 0 {
		t.Fatalf("fresh progress has match %d", pr.Match)
	}
	term := lead.Term

	// Deliver the stale responses: same term, same node ID.
	for _, m := range stale {
		if m.Term != term {
			t.Fatalf("test setup: stale response is from term %d, want %d", m.Term, term)
		}
		_ = nw.nodes[1].rn.Step(m)
	}
	if pr := lead.trk.Progress[4]; pr.Match != 0 {
		t.Fatalf("stale response from removed incarnation set match to %d (old match %d)", pr.Match, oldMatch)
	}
	if !pr.RecentActive || pr.State.String() != "StateProbe" {
		// RecentActive is set for a new node by confchange; the stale
		// responses must not have changed the state either.
		t.Fatalf("progress changed by stale responses: %s", pr)
	}

	// The new incarnation catches up normally.
	nw.down[4] = false
	nw.nodes[4] = nil
	delete(nw.nodes, 4)
	nw.ids = nw.ids[:3]
	nw.addNode(4, nil)
	nw.tickAll(3)
	if got, want := lead.trk.Progress[4].Match, lead.raftLog.lastIndex(); got != want {
		t.Fatalf("new node 4 match = %d, want %d", got, want)
	}
}
