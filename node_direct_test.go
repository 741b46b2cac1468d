package raft

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed901663da/raft/raftpb"
)

// The tests in this file drive a single-voter Node by hand, one Ready at a
// time, to pin down what Node.Propose and Node.Advance do on the caller's
// goroutine (node.stepDirect, and Advance's own acknowledgement).

// loneNode is a started single-voter Node and the storage its Readys are
// persisted to.
type loneNode struct {
	t  *testing.T
	n  Node
	st *MemoryStorage
}

func startLoneNode(t *testing.T) *loneNode {
	t.Helper()
	st := NewMemoryStorage()
	n, err := StartNode(testConfig(1, st), []Peer{{ID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	l := &loneNode{t: t, n: n, st: st}
	l.handle(l.next()) // the bootstrap entries
	if err := n.Campaign(context.Background()); err != nil {
		t.Fatal(err)
	}
	for n.Status().RaftState != StateLeader {
		l.handle(l.next())
	}
	// Then until the leader's empty entry is applied.
	term := n.Status().Term
	for applied := false; !applied; {
		rd := l.next()
		for _, e := range rd.CommittedEntries {
			applied = applied || e.Term == term
		}
		l.handle(rd)
	}
	return l
}

// next returns the next Ready, failing the test if none comes in time.
func (l *loneNode) next() Ready {
	l.t.Helper()
	select {
	case rd := <-l.n.Ready():
		return rd
	case <-time.After(waitLimit):
		l.t.Fatal("no Ready")
		return Ready{}
	}
}

// persist writes a Ready's hard state and entries; apply applies its
// committed conf changes. Neither calls Advance.
func (l *loneNode) persist(rd Ready) {
	l.t.Helper()
	if err := l.st.Append(rd.Entries); err != nil {
		l.t.Fatal(err)
	}
	if rd.HardState != nil {
		if err := l.st.SetHardState(rd.HardState); err != nil {
			l.t.Fatal(err)
		}
	}
	for _, e := range rd.CommittedEntries {
		if e.Type != raftpb.EntryNormal {
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				l.t.Fatal(err)
			}
			if _, err := l.n.ApplyConfChange(cc); err != nil {
				l.t.Fatal(err)
			}
		}
	}
}

func (l *loneNode) handle(rd Ready) {
	l.t.Helper()
	l.persist(rd)
	l.n.Advance()
}

func entryData(ents []*raftpb.Entry) []string {
	var out []string
	for _, e := range ents {
		if len(e.Data) > 0 && e.Type == raftpb.EntryNormal {
			out = append(out, string(e.Data))
		}
	}
	return out
}

// A proposal made while a Ready awaits Advance does not wait for it, and
// the next Ready, offered once Advance is called, carries it. A lone
// voter commits it in that same Ready.
func TestNodeProposeWhileReadyOutstanding(t *testing.T) {
	l := startLoneNode(t)
	ctx := context.Background()
	if err := l.n.Propose(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	rd := l.next()
	if got := fmt.Sprint(entryData(rd.Entries), entryData(rd.CommittedEntries)); got != "[a] [a]" {
		t.Fatalf("first Ready: entries and committed entries %s, want [a] [a]", got)
	}
	l.persist(rd)
	// Proposed from the goroutine that holds the Ready: it must not need
	// the Ready advanced first.
	if err := l.n.Propose(ctx, []byte("b")); err != nil {
		t.Fatal(err)
	}
	select {
	case rd := <-l.n.Ready():
		t.Fatalf("a Ready was offered before Advance: %+v", rd)
	default:
	}
	l.n.Advance()
	rd = l.next()
	if got := fmt.Sprint(entryData(rd.Entries), entryData(rd.CommittedEntries)); got != "[b] [b]" {
		t.Fatalf("second Ready: entries and committed entries %s, want [b] [b]", got)
	}
	if rd.HardState == nil || rd.HardState.Commit != rd.Entries[0].Index {
		t.Fatalf("second Ready's hard state %v does not commit entry %d", rd.HardState, rd.Entries[0].Index)
	}
	l.handle(rd)
}

// Many proposers and an application loop that advances as soon as it has
// persisted: every proposal is applied exactly once, and each proposer's
// proposals in the order it made them (Propose returns once the proposal
// is in the leader's log). Run with -race, this checks the locking between
// the run goroutine, proposers stepping directly, and Advance.
func TestNodeConcurrentDirectProposals(t *testing.T) {
	l := startLoneNode(t)
	const proposers, each = 8, 200
	applied := make(map[string]int)
	// next is, per proposer, the number of the proposal it must apply next.
	var next [proposers]int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(applied) < proposers*each {
			var rd Ready
			select {
			case rd = <-l.n.Ready():
			case <-time.After(waitLimit):
				t.Errorf("no Ready; applied %d proposals", len(applied))
				return
			}
			if err := l.st.Append(rd.Entries); err != nil {
				t.Error(err)
				return
			}
			if rd.HardState != nil {
				if err := l.st.SetHardState(rd.HardState); err != nil {
					t.Error(err)
					return
				}
			}
			for _, d := range entryData(rd.CommittedEntries) {
				applied[d]++
				var p, i int
				if _, err := fmt.Sscanf(d, "%d/%d", &p, &i); err != nil || p < 0 || p >= proposers {
					t.Errorf("applied %q, not a proposal", d)
					continue
				}
				if i != next[p] {
					t.Errorf("proposer %d: applied %q, want its proposal %d next", p, d, next[p])
				}
				next[p] = i + 1
			}
			l.n.Advance()
		}
	}()
	var wg sync.WaitGroup
	for p := range proposers {
		wg.Go(func() {
			for i := range each {
				if err := l.n.Propose(context.Background(), fmt.Appendf(nil, "%d/%d", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	<-done
	for d, n := range applied {
		if n != 1 {
			t.Errorf("%s applied %d times", d, n)
		}
	}
	if st := l.n.Status(); st.Applied != st.Commit {
		t.Errorf("status: applied %d, commit %d", st.Applied, st.Commit)
	}
}

// A follower's Node.Step, called while a Ready awaits Advance, returns
// without waiting for that Advance (node.stepDirect steps it on the
// caller's goroutine when the lock is free); the next Ready carries what
// the message changed: the appended entries, and the acknowledgement that
// must wait for them.
func TestNodeStepWhileReadyOutstanding(t *testing.T) {
	st := NewMemoryStorage()
	if err := st.ApplySnapshot(&raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index: 1, Term: 1, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}); err != nil {
		t.Fatal(err)
	}
	n, err := RestartNode(testConfig(2, st))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	ctx := context.Background()
	// A heartbeat from leader 1 in term 2 makes a Ready due (the new term
	// and the response); it is taken, and not yet advanced.
	if err := n.Step(ctx, &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 2}); err != nil {
		t.Fatal(err)
	}
	l := &loneNode{t: t, n: n, st: st}
	first := l.next()
	if first.HardState == nil || first.HardState.Term != 2 {
		t.Fatalf("first Ready's hard state = %v, want term 2", first.HardState)
	}
	app := &raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 2, LogTerm: 1, Index: 1,
		Entries: []*raftpb.Entry{{Index: 2, Term: 2, Data: []byte("a")}, {Index: 3, Term: 2, Data: []byte("b")}}}
	done := make(chan error, 1)
	go func() { done <- n.Step(ctx, app) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Step waited for Advance")
	}
	l.handle(first)
	second := l.next()
	if got := entryData(second.Entries); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("second Ready's entries = %v, want [a b]", got)
	}
	var acked bool
	for _, m := range second.Messages {
		acked = acked || m.Type == raftpb.MsgAppResp && m.To == 1 && m.Index == 3 && !m.Reject
	}
	if !acked {
		t.Fatalf("second Ready's messages %v lack the ack of index 3", second.Messages)
	}
}
