package raft

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// The tests in this file check, one by one, the rules the Raft paper
// ("In Search of an Understandable Consensus Algorithm", Ongaro and
// Ousterhout, 2014) states in section 5, plus the PreVote and CheckQuorum
// extensions of Ongaro's thesis. Each test names the section it checks.
// They drive one RawNode with hand-made messages where a rule concerns a
// single server, and a testNetwork where it concerns the cluster.

// peers123 is the configuration most tests use.
var peers123 = []uint64{1, 2, 3}

// logTerms lists the terms of every entry in n's log, from index 1.
func logTerms(n *testNode) []uint64 {
	var out []uint64
	for _, e := range n.rn.raft.raftLog.allEntries() {
		out = append(out, e.Term)
	}
	return out
}

// ofType returns the messages of type typ.
func ofType(msgs []*raftpb.Message, typ raftpb.MessageType) []*raftpb.Message {
	var out []*raftpb.Message
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// voteResponses returns, per sender's recipient, whether the vote was
// granted, for the vote responses among msgs.
func voteGranted(t *testing.T, msgs []*raftpb.Message, typ raftpb.MessageType) (granted, answered bool) {
	t.Helper()
	resps := ofType(msgs, typ)
	if len(resps) > 1 {
		t.Fatalf("%d %s responses, want at most one", len(resps), typ)
	}
	if len(resps) == 0 {
		return false, false
	}
	return !resps[0].Reject, true
}

// makeCandidate makes n (a voter of peers123) campaign and persist the
// campaign.
func makeCandidate(t *testing.T, n *testNode) []*raftpb.Message {
	t.Helper()
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	return n.drain(t)
}

// makeLeader makes n (node 1 of peers123) win an election with node 2's
// vote.
func makeLeader(t *testing.T, n *testNode) {
	t.Helper()
	makeCandidate(t, n)
	r := n.rn.raft
	if err := n.rn.Step(&raftpb.Message{From: 2, To: r.id, Type: raftpb.MsgVoteResp, Term: r.Term, Epoch: r.trk.Progress[2].Epoch}); err != nil {
		t.Fatal(err)
	}
	n.drain(t)
	if r.state != StateLeader {
		t.Fatalf("node %d is %s after winning a vote, want leader", r.id, r.state)
	}
}

// roleSetups bring node 1 of peers123 (log [1 1], term 1) into each role.
var roleSetups = []struct {
	name  string
	opts  []func(*Config)
	setup func(t *testing.T, n *testNode)
}{
	{"follower", nil, func(*testing.T, *testNode) {}},
	{"candidate", nil, func(t *testing.T, n *testNode) { makeCandidate(t, n) }},
	{"pre-candidate", []func(*Config){func(c *Config) { c.PreVote = true }}, func(t *testing.T, n *testNode) { makeCandidate(t, n) }},
	{"leader", nil, makeLeader},
}

// TestPaperStepDownOnHigherTerm checks §5.1: "If a candidate or leader
// discovers that its term is out of date, it immediately reverts to
// follower state", and every server adopts the larger term it sees. The
// new term is part of the next Ready's HardState and must be synced.
func TestPaperStepDownOnHigherTerm(t *testing.T) {
	msgs := []struct {
		typ      raftpb.MessageType
		from     uint64
		wantLead uint64
	}{
		// Only a leader sends appends and heartbeats, so the sender is
		// known to lead the new term.
		{raftpb.MsgApp, 2, 2},
		{raftpb.MsgHeartbeat, 2, 2},
		{raftpb.MsgSnap, 2, 2},
		{raftpb.MsgVote, 3, None},
		{raftpb.MsgAppResp, 2, None},
	}
	for _, role := range roleSetups {
		for _, tc := range msgs {
			t.Run(fmt.Sprintf("%s/%s", role.name, tc.typ), func(t *testing.T) {
				n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 1}), role.opts...)
				role.setup(t, n)
				r := n.rn.raft
				high := r.Term + 3
				m := &raftpb.Message{Type: tc.typ, From: tc.from, To: 1, Term: high, Index: 2, LogTerm: 1, Epoch: r.trk.Progress[tc.from].Epoch}
				if tc.typ == raftpb.MsgSnap {
					// A stale snapshot: only the term matters here.
					m.Snapshot = &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 1, Term: 1, ConfState: &raftpb.ConfState{Voters: peers123}}}
				}
				if err := n.rn.Step(m); err != nil {
					t.Fatal(err)
				}
				if r.state != StateFollower || r.Term != high || r.lead != tc.wantLead {
					t.Fatalf("after %s at term %d: %s term=%d lead=%d, want follower term=%d lead=%d",
						tc.typ, high, r.state, r.Term, r.lead, high, tc.wantLead)
				}
				rd := n.rn.Ready()
				if rd.HardState == nil || rd.HardState.Term != high || !rd.MustSync {
					t.Fatalf("Ready does not persist the new term: hs=%v MustSync=%t", rd.HardState, rd.MustSync)
				}
				n.rn.Advance(rd)
			})
		}
	}
}

// TestPaperIgnoreLowerTerm checks §5.1: "If a server receives a request
// with a stale term number, it rejects the request." A stale append changes
// nothing, and the sender is told the current term, with or without
// CheckQuorum (thesis §9.6: it may never hear a vote request that would
// tell it).
func TestPaperIgnoreLowerTerm(t *testing.T) {
	for _, checkQuorum := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkquorum=%t", checkQuorum), func(t *testing.T) {
			n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 2, 3}, &raftpb.HardState{Term: 3, Commit: 1}),
				func(c *Config) { c.CheckQuorum = checkQuorum })
			r := n.rn.raft
			stale := []*raftpb.Message{
				{Type: raftpb.MsgApp, From: 2, Term: 2, Index: 3, LogTerm: 3, Commit: 3,
					Entries: []*raftpb.Entry{{Index: 4, Term: 2}}},
				{Type: raftpb.MsgHeartbeat, From: 2, Term: 2, Commit: 3},
				{Type: raftpb.MsgVote, From: 3, Term: 2, Index: 10, LogTerm: 3},
			}
			var out []*raftpb.Message
			for _, m := range stale {
				m.To = 1
				if err := n.rn.Step(m); err != nil {
					t.Fatal(err)
				}
				out = append(out, n.drain(t)...)
			}
			if got := logTerms(n); !slices.Equal(got, []uint64{1, 2, 3}) {
				t.Errorf("log = %v, want unchanged [1 2 3]", got)
			}
			if r.Term != 3 || r.Vote != None || r.lead != None || r.raftLog.committed != 1 || r.state != StateFollower {
				t.Errorf("state changed: %s", n.rn.BasicStatus())
			}
			if granted, _ := voteGranted(t, out, raftpb.MsgVoteResp); granted {
				t.Error("granted a vote for a stale term")
			}
			resps := ofType(out, raftpb.MsgAppResp)
			if len(resps) != 2 || resps[0].Term != 3 || resps[1].Term != 3 {
				t.Errorf("want two MsgAppResp at term 3 telling the stale leader, got %v", resps)
			}
		})
	}
}

// TestPaperTermAndVotePersisted checks §5.1 and Figure 2: currentTerm and
// votedFor are persistent state, updated on stable storage before
// responding. After a restart from storage the node is in the same term
// and will not vote for anyone else in it (§5.2: at most one vote per term).
func TestPaperTermAndVotePersisted(t *testing.T) {
	s := newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1})
	n := newTestNode(t, 1, s)
	if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgVote, From: 2, To: 1, Term: 5, Index: 1, LogTerm: 1}); err != nil {
		t.Fatal(err)
	}
	rd := n.rn.Ready()
	if rd.HardState == nil || rd.HardState.Term != 5 || rd.HardState.Vote != 2 || !rd.MustSync {
		t.Fatalf("vote not persisted before the response: hs=%v MustSync=%t", rd.HardState, rd.MustSync)
	}
	if granted, _ := voteGranted(t, rd.Messages, raftpb.MsgVoteResp); !granted {
		t.Fatal("vote was not granted")
	}
	if err := s.SetHardState(rd.HardState); err != nil {
		t.Fatal(err)
	}
	n.rn.Advance(rd)

	restarted := newTestNode(t, 1, s)
	if st := restarted.rn.BasicStatus(); st.Term != 5 || st.Vote != 2 {
		t.Fatalf("after restart term=%d vote=%d, want 5 and 2", st.Term, st.Vote)
	}
	if err := restarted.rn.Step(&raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 1, Term: 5, Index: 1, LogTerm: 1}); err != nil {
		t.Fatal(err)
	}
	if granted, answered := voteGranted(t, restarted.drain(t), raftpb.MsgVoteResp); granted || !answered {
		t.Fatalf("second vote in term 5 after restart: granted=%t answered=%t, want a rejection", granted, answered)
	}
}

// TestPaperFollowerStartsElection checks §5.2: a follower that hears from
// no leader for an election timeout becomes a candidate, increments its
// term, votes for itself and asks every other server for its vote with its
// last log index and term. While a leader keeps sending heartbeats it does
// not.
func TestPaperFollowerStartsElection(t *testing.T) {
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 2}, &raftpb.HardState{Term: 2, Commit: 1}))
	r := n.rn.raft
	// Heartbeats every few ticks keep it a follower for a long time.
	for i := 0; i < 10*r.electionTimeout; i++ {
		if i%3 == 0 {
			if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 1}); err != nil {
				t.Fatal(err)
			}
		}
		n.rn.Tick()
		n.drain(t)
		if r.state != StateFollower {
			t.Fatalf("tick %d: became %s while hearing from a leader", i, r.state)
		}
	}
	// Silence. The timeout restarts from the last heartbeat.
	timeout := r.randomizedElectionTimeout - r.electionElapsed
	for i := 0; i < timeout-1; i++ {
		n.rn.Tick()
	}
	if r.state != StateFollower {
		t.Fatalf("campaigned %d ticks early", 1)
	}
	n.rn.Tick()
	if r.state != StateCandidate || r.Term != 3 || r.Vote != 1 {
		t.Fatalf("after the election timeout: %s, want candidate of term 3 voting for itself", n.rn.BasicStatus())
	}
	msgs := n.drain(t)
	votes := ofType(msgs, raftpb.MsgVote)
	if len(votes) != 2 {
		t.Fatalf("sent %d vote requests, want 2: %v", len(votes), msgs)
	}
	for i, m := range votes {
		if m.To != uint64(i+2) || m.Term != 3 || m.Index != 2 || m.LogTerm != 2 {
			t.Errorf("vote request %s, want to=%d term=3 index=2 logterm=2", raftpb.DescribeMessage(m, nil), i+2)
		}
	}
	if granted, _, _ := r.trk.TallyVotes(); granted != 1 {
		t.Errorf("candidate counted %d granted votes after persisting its own, want 1", granted)
	}
}

// TestPaperElectionOutcome checks §5.2: a candidate wins with votes from a
// majority of the full cluster (its own included), becomes a follower again
// once a majority rejected it, and otherwise stays a candidate. A single
// server wins alone, once its own vote is durable.
func TestPaperElectionOutcome(t *testing.T) {
	tests := []struct {
		size             int
		granted, refused []uint64
		want             StateType
	}{
		{1, nil, nil, StateLeader},
		{3, []uint64{2}, nil, StateLeader},
		{3, nil, []uint64{2}, StateCandidate},
		{3, nil, []uint64{2, 3}, StateFollower},
		{5, []uint64{2}, nil, StateCandidate},
		{5, []uint64{2, 3}, nil, StateLeader},
		{5, []uint64{2}, []uint64{3, 4}, StateCandidate},
		{5, []uint64{2}, []uint64{3, 4, 5}, StateFollower},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d/yes=%v/no=%v", tc.size, tc.granted, tc.refused), func(t *testing.T) {
			var voters []uint64
			for id := uint64(1); id <= uint64(tc.size); id++ {
				voters = append(voters, id)
			}
			n := newTestNode(t, 1, newVoterStorage(t, voters, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}))
			r := n.rn.raft
			makeCandidate(t, n)
			for _, ids := range [][]uint64{tc.granted, tc.refused} {
				for _, id := range ids {
					m := &raftpb.Message{Type: raftpb.MsgVoteResp, From: id, To: 1, Term: 2,
						Reject: !slices.Contains(tc.granted, id), Epoch: r.trk.Progress[id].Epoch}
					if err := n.rn.Step(m); err != nil {
						t.Fatal(err)
					}
				}
			}
			n.drain(t)
			if r.state != tc.want || r.Term != 2 {
				t.Fatalf("%s at term %d, want %s at term 2", r.state, r.Term, tc.want)
			}
		})
	}
}

// TestPaperOneVotePerTerm checks §5.2: "each server will vote for at most
// one candidate in a given term, on a first-come-first-served basis". A
// repeated request from the candidate it voted for is granted again (the
// first answer may have been lost); a new term frees the vote.
func TestPaperOneVotePerTerm(t *testing.T) {
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}))
	steps := []struct {
		from, term uint64
		grant      bool
	}{
		{2, 2, true},
		{3, 2, false},
		{2, 2, true},
		{3, 3, true},
		{2, 3, false},
	}
	for i, s := range steps {
		if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgVote, From: s.from, To: 1, Term: s.term, Index: 1, LogTerm: 1}); err != nil {
			t.Fatal(err)
		}
		granted, answered := voteGranted(t, n.drain(t), raftpb.MsgVoteResp)
		if !answered || granted != s.grant {
			t.Fatalf("step %d: vote for %d in term %d granted=%t answered=%t, want granted=%t",
				i, s.from, s.term, granted, answered, s.grant)
		}
	}
}

// TestPaperCandidateAcceptsLeader checks §5.2: a candidate that receives
// AppendEntries from a leader whose term is at least its own returns to
// follower; one with a smaller term is rejected and the candidate carries
// on.
func TestPaperCandidateAcceptsLeader(t *testing.T) {
	for _, typ := range []raftpb.MessageType{raftpb.MsgApp, raftpb.MsgHeartbeat} {
		t.Run(typ.String(), func(t *testing.T) {
			n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}))
			r := n.rn.raft
			makeCandidate(t, n)
			if err := n.rn.Step(&raftpb.Message{Type: typ, From: 3, To: 1, Term: 1, Index: 1, LogTerm: 1}); err != nil {
				t.Fatal(err)
			}
			if r.state != StateCandidate || r.Term != 2 {
				t.Fatalf("after a stale %s: %s term %d, want candidate term 2", typ, r.state, r.Term)
			}
			if resps := ofType(n.drain(t), raftpb.MsgAppResp); len(resps) != 1 || resps[0].To != 3 || resps[0].Term != 2 {
				t.Fatalf("the stale leader was not told the term: %v", resps)
			}
			if err := n.rn.Step(&raftpb.Message{Type: typ, From: 2, To: 1, Term: 2, Index: 1, LogTerm: 1}); err != nil {
				t.Fatal(err)
			}
			if r.state != StateFollower || r.Term != 2 || r.lead != 2 {
				t.Fatalf("after %s of its term: %s, want follower of leader 2 in term 2", typ, n.rn.BasicStatus())
			}
			if resps := ofType(n.drain(t), raftpb.MsgAppResp); typ == raftpb.MsgApp && (len(resps) != 1 || resps[0].Reject) {
				t.Fatalf("the append was not accepted: %v", resps)
			}
		})
	}
}

// TestPaperCandidateRetriesSplitVote checks §5.2: a candidate that neither
// wins nor loses times out and starts a new election in the next term,
// with a fresh randomized timeout.
func TestPaperCandidateRetriesSplitVote(t *testing.T) {
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}))
	r := n.rn.raft
	makeCandidate(t, n)
	for term := uint64(3); term < 8; term++ {
		for i := 0; i < r.randomizedElectionTimeout; i++ {
			n.rn.Tick()
		}
		if r.state != StateCandidate || r.Term != term || r.Vote != 1 {
			t.Fatalf("want candidate in term %d, got %s", term, n.rn.BasicStatus())
		}
		if votes := ofType(n.drain(t), raftpb.MsgVote); len(votes) != 2 || votes[0].Term != term {
			t.Fatalf("term %d: vote requests %v", term, votes)
		}
	}
}

// constRand is a RandSource that always yields v.
type constRand uint64

func (c constRand) Uint64() uint64 { return uint64(c) }

// TestPaperRandomizedElectionTimeout checks §5.2: election timeouts are
// drawn at random from a fixed interval, here [ElectionTick,
// 2*ElectionTick), so that servers rarely time out together. The default
// source differs between nodes; an injected one is used as given.
func TestPaperRandomizedElectionTimeout(t *testing.T) {
	const et = 10
	first := map[int]bool{}
	for id := uint64(1); id <= 5; id++ {
		n := newTestNode(t, id, newVoterStorage(t, []uint64{1, 2, 3, 4, 5}, nil, nil))
		r := n.rn.raft
		first[r.randomizedElectionTimeout] = true
		seen := map[int]bool{}
		for i := 0; i < 500; i++ {
			r.resetRandomizedElectionTimeout()
			to := r.randomizedElectionTimeout
			if to < et || to >= 2*et {
				t.Fatalf("node %d: timeout %d outside [%d, %d)", id, to, et, 2*et)
			}
			seen[to] = true
		}
		if len(seen) != et {
			t.Errorf("node %d drew %d distinct timeouts in 500 tries, want all %d", id, len(seen), et)
		}
	}
	if len(first) < 2 {
		t.Errorf("all five nodes start with the same timeout %v", first)
	}
	n := newTestNode(t, 1, newVoterStorage(t, peers123, nil, nil), func(c *Config) { c.Rand = constRand(13) })
	if got := n.rn.raft.randomizedElectionTimeout; got != et+3 {
		t.Errorf("with a constant source yielding 13, timeout = %d, want %d", got, et+3)
	}
}

// TestPaperLeaderSendsHeartbeats checks §5.2: a leader sends periodic
// heartbeats (empty AppendEntries) to all followers to maintain its
// authority, every HeartbeatTick ticks.
func TestPaperLeaderSendsHeartbeats(t *testing.T) {
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}),
		func(c *Config) { c.HeartbeatTick = 3 })
	makeLeader(t, n)
	for tick := 1; tick <= 9; tick++ {
		n.rn.Tick()
		hbs := ofType(n.drain(t), raftpb.MsgHeartbeat)
		want := 0
		if tick%3 == 0 {
			want = 2
		}
		if len(hbs) != want {
			t.Fatalf("tick %d: %d heartbeats, want %d", tick, len(hbs), want)
		}
		for _, m := range hbs {
			if m.Term != 2 || len(m.Entries) != 0 {
				t.Fatalf("bad heartbeat %s", raftpb.DescribeMessage(m, nil))
			}
		}
	}
}

// TestPaperLeaderReplicatesAndCommits checks §5.3: the leader appends a
// proposal to its log in its own term, sends it to every follower with the
// index and term of the entry before it, commits it once a majority stored
// it, and followers learn the commit index from later appends.
func TestPaperLeaderReplicatesAndCommits(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	lead := nw.nodes[1].rn.raft
	prevIndex, prevTerm := lead.raftLog.lastEntryID()
	commit := lead.raftLog.committed
	if err := nw.nodes[1].rn.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	nw.processReady(1)
	if last := lead.raftLog.lastIndex(); last != prevIndex+1 {
		t.Fatalf("leader last index %d, want %d", last, prevIndex+1)
	}
	apps := ofType(nw.queue, raftpb.MsgApp)
	if len(apps) != 2 {
		t.Fatalf("leader sent %d appends, want 2", len(apps))
	}
	for _, m := range apps {
		if m.Index != prevIndex || m.LogTerm != prevTerm || len(m.Entries) != 1 ||
			m.Entries[0].Term != lead.Term || string(m.Entries[0].Data) != "x" {
			t.Fatalf("append %s, want prev %d/%d and entry x of term %d", raftpb.DescribeMessage(m, nil), prevIndex, prevTerm, lead.Term)
		}
	}
	if lead.raftLog.committed != commit {
		t.Fatal("leader committed before any follower acknowledged")
	}
	// Only node 2 answers: with the leader that is a majority.
	nw.down[3] = true
	nw.deliver()
	nw.processReady(2)
	nw.deliver()
	if lead.raftLog.committed != prevIndex+1 {
		t.Fatalf("leader commit %d after a majority stored the entry, want %d", lead.raftLog.committed, prevIndex+1)
	}
	nw.down[3] = false
	nw.stabilize()
	for _, id := range nw.ids {
		r := nw.nodes[id].rn.raft
		if got := nw.nodes[id].appliedData(); id != 3 && !slices.Equal(got, []string{"x"}) {
			t.Errorf("node %d applied %v, want [x]", id, got)
		}
		if id == 2 && r.raftLog.committed != prevIndex+1 {
			t.Errorf("follower 2 did not learn the commit index: %d", r.raftLog.committed)
		}
	}
}

// TestPaperFollowerAppendEntries checks the receiver side of AppendEntries
// (§5.3, Figure 2): reject if the log has no entry at prevLogIndex with
// prevLogTerm; delete a conflicting entry and all that follow it; append
// new entries; keep entries that already match (a delayed duplicate must
// not truncate); set commitIndex = min(leaderCommit, index of last new
// entry). Rejections carry a hint that lets the leader skip a whole term.
func TestPaperFollowerAppendEntries(t *testing.T) {
	ents := func(index uint64, terms ...uint64) []*raftpb.Entry {
		var out []*raftpb.Entry
		for i, term := range terms {
			out = append(out, &raftpb.Entry{Index: index + uint64(i), Term: term})
		}
		return out
	}
	// The follower's log is [1 2 2 3] with index 1 committed, in term 3.
	tests := []struct {
		name                string
		index, logTerm, com uint64
		ents                []*raftpb.Entry
		wantLog             []uint64
		wantCommit          uint64
		wantReject          bool
		wantIndex           uint64
		wantHint, wantHTerm uint64
	}{
		{"append at the end", 4, 3, 1, ents(5, 3), []uint64{1, 2, 2, 3, 3}, 1, false, 5, 0, 0},
		{"term mismatch", 4, 2, 1, ents(5, 3), []uint64{1, 2, 2, 3}, 1, true, 4, 3, 2},
		{"past our last index", 6, 3, 1, ents(7, 3), []uint64{1, 2, 2, 3}, 1, true, 6, 4, 3},
		{"conflict truncates", 2, 2, 1, ents(3, 3), []uint64{1, 2, 3}, 1, false, 3, 0, 0},
		{"duplicate keeps the tail", 2, 2, 1, ents(3, 2), []uint64{1, 2, 2, 3}, 1, false, 3, 0, 0},
		{"commit to last new entry", 1, 1, 4, ents(2, 2, 2), []uint64{1, 2, 2, 3}, 3, false, 3, 0, 0},
		{"commit to leader commit", 4, 3, 2, ents(5, 3, 3), []uint64{1, 2, 2, 3, 3, 3}, 2, false, 6, 0, 0},
		{"heartbeat-like empty append", 4, 3, 4, nil, []uint64{1, 2, 2, 3}, 4, false, 4, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 2, 2, 3}, &raftpb.HardState{Term: 3, Commit: 1}))
			m := &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 3,
				Index: tc.index, LogTerm: tc.logTerm, Commit: tc.com, Entries: tc.ents}
			if err := n.rn.Step(m); err != nil {
				t.Fatal(err)
			}
			resps := ofType(n.drain(t), raftpb.MsgAppResp)
			if len(resps) != 1 {
				t.Fatalf("%d responses, want 1", len(resps))
			}
			resp := resps[0]
			if resp.Reject != tc.wantReject || resp.Index != tc.wantIndex {
				t.Errorf("response %s, want reject=%t index=%d", raftpb.DescribeMessage(resp, nil), tc.wantReject, tc.wantIndex)
			}
			if tc.wantReject && (resp.RejectHint != tc.wantHint || resp.LogTerm != tc.wantHTerm) {
				t.Errorf("hint %d/%d, want %d/%d", resp.RejectHint, resp.LogTerm, tc.wantHint, tc.wantHTerm)
			}
			if got := logTerms(n); !slices.Equal(got, tc.wantLog) {
				t.Errorf("log %v, want %v", got, tc.wantLog)
			}
			if got := n.rn.raft.raftLog.committed; got != tc.wantCommit {
				t.Errorf("commit %d, want %d", got, tc.wantCommit)
			}
		})
	}
}

// TestPaperLeaderRepairsFollowerLogs replays Figure 7 of §5.3: whatever
// the follower's log (missing entries, extra uncommitted ones, or both),
// the new leader of term 8 finds the last matching entry by backing off on
// rejections and overwrites the rest, until the follower's log equals its
// own.
func TestPaperLeaderRepairsFollowerLogs(t *testing.T) {
	leaderLog := []uint64{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	followers := map[string][]uint64{
		"a": {1, 1, 1, 4, 4, 5, 5, 6, 6},
		"b": {1, 1, 1, 4},
		"c": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},
		"d": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
		"e": {1, 1, 1, 4, 4, 4, 4},
		"f": {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},
	}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		flog := followers[name]
		t.Run(name, func(t *testing.T) {
			hs := func(term uint64) *raftpb.HardState { return &raftpb.HardState{Term: term, Commit: 3} }
			nw := newTestNetworkOf(t,
				newTestNode(t, 1, newVoterStorage(t, peers123, leaderLog, hs(7))),
				newTestNode(t, 2, newVoterStorage(t, peers123, flog, hs(flog[len(flog)-1]))),
				// Node 3 holds the leader's log and votes for it.
				newTestNode(t, 3, newVoterStorage(t, peers123, leaderLog, hs(7))),
			)
			rejections := 0
			nw.drop = func(m *raftpb.Message) bool {
				if m.Type == raftpb.MsgAppResp && m.From == 2 && m.Reject {
					rejections++
				}
				return false
			}
			nw.campaign(1)
			if nw.leader() != 1 || nw.nodes[1].rn.raft.Term != 8 {
				t.Fatalf("node 1 did not become leader of term 8: %s", nw.nodes[1].rn.BasicStatus())
			}
			want := append(slices.Clone(leaderLog), 8)
			for _, id := range nw.ids {
				if got := logTerms(nw.nodes[id]); !slices.Equal(got, want) {
					t.Errorf("node %d log %v, want %v", id, got, want)
				}
			}
			// The hint skips a term per round trip: never more than one
			// rejection per term the logs disagree on.
			if rejections > 3 {
				t.Errorf("%d rejections before the logs matched", rejections)
			}
		})
	}
}

// TestPaperVoteRequiresUpToDateLog checks §5.4.1: a vote is denied to a
// candidate whose log is less up-to-date than the voter's: the log whose
// last entry has the later term is more up-to-date, and with equal last
// terms the longer log is. PreVote applies the same rule.
func TestPaperVoteRequiresUpToDateLog(t *testing.T) {
	// The voter's log ends at index 3, term 2.
	tests := []struct {
		index, logTerm uint64
		grant          bool
	}{
		{3, 2, true},
		{4, 2, true},
		{2, 2, false},
		{1, 3, true},
		{10, 1, false},
		{0, 0, false},
		{3, 1, false},
	}
	for _, typ := range []raftpb.MessageType{raftpb.MsgVote, raftpb.MsgPreVote} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%d-%d", typ, tc.index, tc.logTerm), func(t *testing.T) {
				n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 2, 2}, &raftpb.HardState{Term: 2, Commit: 1}),
					func(c *Config) { c.PreVote = true })
				if err := n.rn.Step(&raftpb.Message{Type: typ, From: 2, To: 1, Term: 3, Index: tc.index, LogTerm: tc.logTerm}); err != nil {
					t.Fatal(err)
				}
				granted, answered := voteGranted(t, n.drain(t), raftpb.VoteResponseType(typ))
				if !answered || granted != tc.grant {
					t.Fatalf("granted=%t answered=%t, want granted=%t", granted, answered, tc.grant)
				}
			})
		}
	}
}

// figure8 builds the cluster of §5.4.2, Figure 8, at moment (c): S1 leads
// term 4 and has just replicated its term-2 entry at index 2 to S2, S3 and
// S4, but not yet its term-4 entry at index 3. S5 holds a term-3 entry at
// index 2 and is down.
func figure8(t *testing.T) *testNetwork {
	voters := []uint64{1, 2, 3, 4, 5}
	node := func(id uint64, terms []uint64, term, vote uint64) *testNode {
		// One entry per message, so that index 2 and 3 travel apart.
		return newTestNode(t, id, newVoterStorage(t, voters, terms, &raftpb.HardState{Term: term, Vote: vote, Commit: 1}),
			func(c *Config) { c.MaxSizePerMsg = 0 })
	}
	nw := newTestNetworkOf(t,
		node(1, []uint64{1, 2}, 3, None), // (a) leader of term 2
		node(2, []uint64{1, 2}, 2, 1),
		node(3, []uint64{1}, 3, 5), // (b) S5 won term 3 with S3, S4
		node(4, []uint64{1}, 3, 5),
		node(5, []uint64{1, 3}, 3, 5),
	)
	nw.down[5] = true
	// (c) Entries of term 4 reach only S2 for now: S3 and S4 lose every
	// append that would store one (a probe they reject gets through).
	nw.drop = func(m *raftpb.Message) bool {
		if m.Type != raftpb.MsgApp || m.To == 2 || len(m.Entries) == 0 || m.Entries[len(m.Entries)-1].Term != 4 {
			return false
		}
		return nw.nodes[m.To].rn.raft.raftLog.matchTerm(m.Index, m.LogTerm)
	}
	nw.campaign(1)
	if nw.leader() != 1 || nw.nodes[1].rn.raft.Term != 4 {
		t.Fatalf("S1 did not win term 4: %s", nw.nodes[1].rn.BasicStatus())
	}
	return nw
}

// TestPaperFigure8 checks §5.4.2: a leader must not conclude that an entry
// of an earlier term is committed because a majority stores it. In Figure
// 8 (c) the term-2 entry is on S1-S4, yet S5 can still be elected and
// overwrite it (d). Only once an entry of the leader's own term is stored
// on a majority are it and everything before it committed (e).
func TestPaperFigure8(t *testing.T) {
	t.Run("(c)+(d) not committed, then overwritten", func(t *testing.T) {
		nw := figure8(t)
		lead := nw.nodes[1].rn.raft
		for _, id := range []uint64{2, 3, 4} {
			if pr := lead.trk.Progress[id]; pr.Match < 2 {
				t.Fatalf("S%d match %d, want the term-2 entry replicated", id, pr.Match)
			}
		}
		if lead.trk.Committed() < 2 || lead.raftLog.committed != 1 {
			t.Fatalf("quorum index %d, commit %d: want index 2 on a quorum but not committed",
				lead.trk.Committed(), lead.raftLog.committed)
		}
		// (d) S1 crashes, S5 comes back and is elected by S3 and S4 (its
		// last term 3 beats their 2); it overwrites index 2.
		nw.down[1], nw.down[5] = true, false
		for i := 0; i < 3 && nw.leader() != 5; i++ {
			nw.campaign(5)
		}
		if nw.leader() != 5 {
			t.Fatalf("S5 was not elected: %s", nw.nodes[5].rn.BasicStatus())
		}
		for _, id := range []uint64{3, 4, 5} {
			if got := logTerms(nw.nodes[id]); got[1] != 3 {
				t.Errorf("S%d log %v, want index 2 overwritten with term 3", id, got)
			}
		}
		for _, id := range nw.ids {
			for _, e := range nw.nodes[id].applied {
				if e.Index == 2 && e.Term == 2 {
					t.Errorf("S%d applied the term-2 entry that was later overwritten", id)
				}
			}
		}
	})
	t.Run("(e) committed through an entry of the current term", func(t *testing.T) {
		nw := figure8(t)
		lead := nw.nodes[1].rn.raft
		nw.drop = nil
		nw.tickAll(1) // a heartbeat round resumes replication
		if lead.raftLog.committed != 3 {
			t.Fatalf("commit %d, want 3 once the term-4 entry is on a majority", lead.raftLog.committed)
		}
		for _, id := range []uint64{1, 2, 3, 4} {
			if got := logTerms(nw.nodes[id]); !slices.Equal(got, []uint64{1, 2, 4}) {
				t.Errorf("S%d log %v, want [1 2 4]", id, got)
			}
		}
	})
}

// TestPaperFollowerCrashRetried checks §5.5: if a follower crashes,
// AppendEntries sent to it fail, and the leader retries indefinitely;
// once it restarts it receives everything it missed. The in-flight window
// is tiny so that the lost messages fill it.
func TestPaperFollowerCrashRetried(t *testing.T) {
	nw := newTestNetwork(t, 3, func(c *Config) { c.MaxInflightMsgs = 2 })
	nw.campaign(1)
	nw.down[3] = true
	var want []string
	for i := 0; i < 6; i++ {
		want = append(want, fmt.Sprint(i))
		if err := nw.nodes[1].rn.Propose([]byte(want[i])); err != nil {
			t.Fatal(err)
		}
		nw.stabilize()
	}
	if got := nw.nodes[2].appliedData(); !slices.Equal(got, want) {
		t.Fatalf("node 2 applied %v with node 3 down, want %v", got, want)
	}
	nw.down[3] = false
	// Heartbeats continue; their responses let the leader retry.
	nw.tickAll(5)
	if got := nw.nodes[3].appliedData(); !slices.Equal(got, want) {
		t.Fatalf("restarted node 3 applied %v, want %v", got, want)
	}
}

// TestPaperCandidateCrashRetried checks §5.5 for RequestVote: vote
// requests lost to crashed servers are retried, by the next election, until
// a majority answers.
func TestPaperCandidateCrashRetried(t *testing.T) {
	nw := newTestNetwork(t, 3)
	nw.down[2], nw.down[3] = true, true
	nw.campaign(1)
	if st := nw.nodes[1].rn.raft.state; st != StateCandidate {
		t.Fatalf("node 1 is %s with everyone else down, want candidate", st)
	}
	nw.down[2] = false
	for i := 0; i < 40 && nw.leader() == 0; i++ {
		nw.tickAll(1)
	}
	if nw.leader() == 0 {
		t.Fatal("no leader after node 2 came back")
	}
}

// TestPreVoteDoesNotDisrupt checks the PreVote extension (thesis §9.6): a
// partitioned node keeps failing pre-elections without incrementing its
// term, so when it comes back the leader keeps leading. Without PreVote
// the same node returns with a high term and forces an election.
func TestPreVoteDoesNotDisrupt(t *testing.T) {
	for _, preVote := range []bool{true, false} {
		t.Run(fmt.Sprintf("prevote=%t", preVote), func(t *testing.T) {
			nw := newTestNetwork(t, 3, func(c *Config) { c.PreVote = preVote })
			nw.campaign(1)
			term := nw.nodes[1].rn.raft.Term
			nw.isolate(3)
			nw.tickAll(50)
			r3 := nw.nodes[3].rn.raft
			if preVote && (r3.Term != term || r3.state != StatePreCandidate) {
				t.Fatalf("isolated node: %s, want pre-candidate still at term %d", nw.nodes[3].rn.BasicStatus(), term)
			}
			if !preVote && r3.Term <= term {
				t.Fatalf("isolated node stayed at term %d without PreVote", r3.Term)
			}
			nw.heal()
			nw.tickAll(5)
			r1 := nw.nodes[1].rn.raft
			disrupted := r1.Term != term
			if disrupted == preVote {
				t.Fatalf("leader term %d -> %d: disrupted=%t, want %t", term, r1.Term, disrupted, !preVote)
			}
		})
	}
}

// TestPreVoteGrantKeepsVoterState checks thesis §9.6: granting a pre-vote
// changes neither the voter's term nor its vote, and a pre-candidate that
// wins a quorum of pre-votes starts a real election in the next term.
func TestPreVoteGrantKeepsVoterState(t *testing.T) {
	voter := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}),
		func(c *Config) { c.PreVote = true })
	if err := voter.rn.Step(&raftpb.Message{Type: raftpb.MsgPreVote, From: 2, To: 1, Term: 2, Index: 1, LogTerm: 1}); err != nil {
		t.Fatal(err)
	}
	if granted, _ := voteGranted(t, voter.drain(t), raftpb.MsgPreVoteResp); !granted {
		t.Fatal("pre-vote not granted")
	}
	if st := voter.rn.BasicStatus(); st.Term != 1 || st.Vote != None {
		t.Fatalf("granting a pre-vote changed the voter: %s", st)
	}

	cand := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}),
		func(c *Config) { c.PreVote = true })
	msgs := makeCandidate(t, cand)
	r := cand.rn.raft
	if r.state != StatePreCandidate || r.Term != 1 || len(ofType(msgs, raftpb.MsgPreVote)) != 2 {
		t.Fatalf("after campaigning: %s, pre-votes %v", cand.rn.BasicStatus(), ofType(msgs, raftpb.MsgPreVote))
	}
	if err := cand.rn.Step(&raftpb.Message{Type: raftpb.MsgPreVoteResp, From: 2, To: 1, Term: 2, Epoch: r.trk.Progress[2].Epoch}); err != nil {
		t.Fatal(err)
	}
	votes := ofType(cand.drain(t), raftpb.MsgVote)
	if r.state != StateCandidate || r.Term != 2 || len(votes) != 2 {
		t.Fatalf("after winning the pre-vote: %s, vote requests %v", cand.rn.BasicStatus(), votes)
	}
}

// TestCheckQuorumLeaderStepsDown checks CheckQuorum (thesis §6.2): a
// leader that has not heard from a majority within an election timeout
// steps down, so that clients can find the real leader; a connected leader
// never does.
func TestCheckQuorumLeaderStepsDown(t *testing.T) {
	nw := newTestNetwork(t, 3, func(c *Config) { c.CheckQuorum = true })
	nw.campaign(1)
	r := nw.nodes[1].rn.raft
	et := r.electionTimeout
	// Partition the followers from each other too, so that they do not
	// elect a leader whose messages would tell node 1.
	nw.tickAll(5 * et)
	if r.state != StateLeader {
		t.Fatalf("connected leader stepped down: %s", nw.nodes[1].rn.BasicStatus())
	}
	nw.down[2], nw.down[3] = true, true
	nw.tickAll(2 * et)
	if r.state != StateFollower || r.Term == 0 {
		t.Fatalf("isolated leader after %d ticks: %s, want follower", 2*et, nw.nodes[1].rn.BasicStatus())
	}
}

// TestCheckQuorumVoteLease checks thesis §4.2.3: with CheckQuorum a server
// that heard from a leader within the minimum election timeout ignores
// vote requests, even of a higher term, and neither adopts the term nor
// votes; after the timeout it votes normally.
func TestCheckQuorumVoteLease(t *testing.T) {
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1}, &raftpb.HardState{Term: 1, Commit: 1}),
		func(c *Config) { c.CheckQuorum = true })
	r := n.rn.raft
	if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1, Commit: 1}); err != nil {
		t.Fatal(err)
	}
	n.drain(t)
	vote := &raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 1, Term: 2, Index: 1, LogTerm: 1}
	if err := n.rn.Step(vote); err != nil {
		t.Fatal(err)
	}
	if _, answered := voteGranted(t, n.drain(t), raftpb.MsgVoteResp); answered || r.Term != 1 {
		t.Fatalf("vote request within the lease: answered=%t term=%d, want ignored at term 1", answered, r.Term)
	}
	// Let the lease run out without campaigning ourselves.
	r.electionElapsed = r.electionTimeout
	if err := n.rn.Step(vote); err != nil {
		t.Fatal(err)
	}
	if granted, _ := voteGranted(t, n.drain(t), raftpb.MsgVoteResp); !granted || r.Term != 2 {
		t.Fatalf("vote after the lease: granted=%t term=%d, want granted at term 2", granted, r.Term)
	}
}

// TestMustSync checks which Ready changes must be fsynced before messages
// go out (paper §5.1 and Figure 2: currentTerm, votedFor and log[] are
// persistent; commitIndex is volatile and recovered from the leader).
func TestMustSync(t *testing.T) {
	prev := &raftpb.HardState{Term: 2, Vote: 1, Commit: 3}
	tests := []struct {
		st   *raftpb.HardState
		ents int
		want bool
	}{
		{&raftpb.HardState{Term: 2, Vote: 1, Commit: 3}, 0, false},
		{&raftpb.HardState{Term: 2, Vote: 1, Commit: 5}, 0, false},
		{&raftpb.HardState{Term: 2, Vote: 1, Commit: 3}, 1, true},
		{&raftpb.HardState{Term: 3, Vote: 1, Commit: 3}, 0, true},
		{&raftpb.HardState{Term: 2, Vote: 2, Commit: 3}, 0, true},
		{&raftpb.HardState{}, 0, true},
	}
	for i, tc := range tests {
		if got := MustSync(tc.st, prev, tc.ents); got != tc.want {
			t.Errorf("#%d: MustSync(%v, %v, %d) = %t, want %t", i, tc.st, prev, tc.ents, got, tc.want)
		}
	}

	// The same rule on real Readys: a heartbeat that only moves the
	// commit index needs no sync; an append does.
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 1, 1}, &raftpb.HardState{Term: 1, Commit: 1}))
	steps := []struct {
		m    *raftpb.Message
		want bool
	}{
		{&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1, Commit: 2}, false},
		{&raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 1, Index: 3, LogTerm: 1, Commit: 2,
			Entries: []*raftpb.Entry{{Index: 4, Term: 1}}}, true},
		{&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 3}, true},
	}
	for i, s := range steps {
		if err := n.rn.Step(s.m); err != nil {
			t.Fatal(err)
		}
		rd := n.rn.Ready()
		if rd.MustSync != s.want {
			t.Errorf("step %d: MustSync=%t, want %t\n%s", i, rd.MustSync, s.want, DescribeReady(rd, nil))
		}
		if err := n.storage.Append(rd.Entries); err != nil {
			t.Fatal(err)
		}
		n.rn.Advance(rd)
	}
}
