package raft

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// FuzzStep feeds arbitrary messages to a RawNode in every role and checks
// that it neither panics nor breaks an invariant: the term and the commit
// index never go back, the commit index stays within the log, committed
// entries never change, the log's terms never decrease nor exceed the
// node's term, a learner never campaigns, and Ready never hands out
// malformed work.
//
// The input is a role selector and a program. Each operation of the
// program either ticks, runs a Ready/Advance cycle, proposes, or steps a
// message: the bytes of a raftpb.Message decoded with proto.Unmarshal (so
// the fuzzer explores the wire format), then optionally reshaped to fit
// the node's state (a known peer, the current term, an index near the end
// of the log), since messages with random terms and indexes mostly bounce
// off the first checks. Run it with
//
//	go test -run '^$' -fuzz FuzzStep -fuzztime 1m .
func FuzzStep(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed.role, seed.prog)
	}
	f.Fuzz(func(t *testing.T, role uint8, prog []byte) {
		n := fuzzNode(t, role)
		inv := newStepInvariants(n)
		inv.check(t, "setup")
		r := &fuzzReader{b: prog}
		for op := 0; op < 64 && !r.empty(); op++ {
			what := fuzzOp(t, n, r)
			inv.check(t, what)
		}
	})
}

// fuzzMode is how a fuzzed node is configured, besides its role.
type fuzzMode struct {
	checkQuorum bool
	// async turns on AsyncStorageWrites: fuzzReady then carries out the
	// local storage messages instead of calling Advance.
	async bool
}

// fuzzRoles are the setups FuzzStep's role byte selects: node 1, with log
// [1 1] at term 1, in each role.
var fuzzRoles = []struct {
	name  string
	setup func(t *testing.T, mode fuzzMode) *testNode
}{
	{"follower", func(t *testing.T, mode fuzzMode) *testNode { return fuzzVoter(t, mode, false) }},
	{"candidate", func(t *testing.T, mode fuzzMode) *testNode {
		n := fuzzVoter(t, mode, false)
		fuzzCampaign(t, n)
		return n
	}},
	{"pre-candidate", func(t *testing.T, mode fuzzMode) *testNode {
		n := fuzzVoter(t, mode, true)
		fuzzCampaign(t, n)
		return n
	}},
	{"leader", func(t *testing.T, mode fuzzMode) *testNode {
		n := fuzzVoter(t, mode, false)
		fuzzCampaign(t, n)
		r := n.rn.raft
		if err := n.rn.Step(&raftpb.Message{From: 2, To: 1, Type: raftpb.MsgVoteResp, Term: r.Term, Epoch: r.trk.Progress[2].Epoch}); err != nil {
			t.Fatal(err)
		}
		fuzzDrain(t, n)
		return n
	}},
	{"learner", func(t *testing.T, mode fuzzMode) *testNode {
		s := newVoterStorage(t, nil, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 1})
		s.snapshot.Metadata.ConfState = &raftpb.ConfState{Voters: []uint64{2, 3}, Learners: []uint64{1}}
		return newTestNode(t, 1, s, func(c *Config) {
			c.CheckQuorum = mode.checkQuorum
			c.AsyncStorageWrites = mode.async
		})
	}},
}

func fuzzVoter(t *testing.T, mode fuzzMode, preVote bool) *testNode {
	s := newVoterStorage(t, peers123, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 1})
	return newTestNode(t, 1, s, func(c *Config) {
		c.CheckQuorum = mode.checkQuorum
		c.AsyncStorageWrites = mode.async
		c.PreVote = preVote
		c.MaxInflightMsgs = 4
	})
}

func fuzzCampaign(t *testing.T, n *testNode) {
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	fuzzDrain(t, n)
}

// fuzzDrain handles Readys until the node has nothing left to do.
func fuzzDrain(t *testing.T, n *testNode) {
	for i := 0; n.rn.HasReady(); i++ {
		if i > 100 {
			t.Fatal("the node keeps producing Readys")
		}
		fuzzReady(t, n)
	}
}

// fuzzNode sets up the node a role byte selects: the role, then
// CheckQuorum, then AsyncStorageWrites.
func fuzzNode(t *testing.T, role uint8) *testNode {
	k := uint8(len(fuzzRoles))
	setup := fuzzRoles[role%k]
	return setup.setup(t, fuzzMode{checkQuorum: role/k%2 == 1, async: role/(2*k)%2 == 1})
}

// fuzzReader hands out the bytes of a fuzz program; past the end it
// returns zeros.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) empty() bool { return len(r.b) == 0 }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) bytes(n int) []byte {
	n = min(n, len(r.b))
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// Operation codes of a fuzz program. Anything else steps a message.
const (
	fuzzOpTick = iota
	fuzzOpReady
	fuzzOpPropose
	fuzzOpCount
)

// Reshaping flags, the byte after a message's encoding.
const (
	fuzzFixFrom    = 1 << iota // From: a member or a stranger
	fuzzFixTo                  // To: this node
	fuzzFixTerm                // Term: the node's term, one less or one more
	fuzzFixType                // Type: a known type
	fuzzFixIndex               // Index and LogTerm: near the end of our log
	fuzzFixCommit              // Commit: near our last index
	fuzzFixEpoch               // Epoch: what the leader expects from From
	fuzzFixEntries             // Entries: consistent after Index, at Term
)

// fuzzPeers are the From values fuzzFixFrom picks from: voters, this node,
// an unknown node and None.
var fuzzPeers = []uint64{2, 3, 1, 7, None}

// fuzzOp runs one operation and describes it.
func fuzzOp(t *testing.T, n *testNode, r *fuzzReader) string {
	switch op := r.byte(); op % 16 {
	case fuzzOpTick:
		n.rn.Tick()
		return "tick"
	case fuzzOpReady:
		fuzzReady(t, n)
		return "ready"
	case fuzzOpPropose:
		_ = n.rn.Propose(r.bytes(int(r.byte() % 8)))
		return "propose"
	default:
		m := &raftpb.Message{}
		if err := proto.Unmarshal(r.bytes(int(r.byte())), m); err != nil {
			m = &raftpb.Message{}
		}
		reshape(n.rn.raft, m, r.byte(), r)
		desc := raftpb.DescribeMessage(m, nil)
		_ = n.rn.Step(m)
		return "step " + desc
	}
}

// reshape makes m plausible for r's state, as the flags say.
func reshape(r *raft, m *raftpb.Message, flags byte, in *fuzzReader) {
	if flags&fuzzFixType != 0 {
		m.Type = raftpb.MessageType(in.byte() % byte(raftpb.MsgForgetLeader+1))
	}
	if flags&fuzzFixFrom != 0 {
		m.From = fuzzPeers[int(in.byte())%len(fuzzPeers)]
	}
	if flags&fuzzFixTo != 0 {
		m.To = r.id
	}
	if flags&fuzzFixTerm != 0 {
		m.Term = r.Term + uint64(in.byte()%3)
		if m.Term > 0 {
			m.Term--
		}
	}
	last := r.raftLog.lastIndex()
	if flags&fuzzFixIndex != 0 {
		m.Index = last - min(last, uint64(in.byte()%4))
		m.LogTerm = r.raftLog.zeroTermOnOutOfBounds(r.raftLog.term(m.Index))
	}
	if flags&fuzzFixCommit != 0 {
		m.Commit = last + uint64(in.byte()%3)
		m.Commit -= min(m.Commit, 1)
	}
	if flags&fuzzFixEpoch != 0 {
		if pr := r.trk.Progress[m.From]; pr != nil {
			m.Epoch = pr.Epoch
		}
	}
	if flags&fuzzFixEntries != 0 {
		k := int(in.byte() % 4)
		m.Entries = m.Entries[:0]
		term := max(m.LogTerm, m.Term)
		for i := 0; i < k; i++ {
			m.Entries = append(m.Entries, &raftpb.Entry{Index: m.Index + 1 + uint64(i), Term: term, Data: []byte{byte(i)}})
		}
	}
}

// fuzzReady handles one Ready the way an application must, and checks
// what it hands out. Messages to peers go nowhere.
func fuzzReady(t *testing.T, n *testNode) {
	t.Helper()
	if !n.rn.HasReady() {
		return
	}
	rd := n.rn.Ready()
	if !n.rn.asyncStorageWrites {
		checkPeerMsgs(t, n, rd.Messages)
		fuzzPersist(t, n, rd.Snapshot, rd.Entries, rd.HardState)
		fuzzApply(n, rd.CommittedEntries)
		n.rn.Advance(rd)
		return
	}
	for _, m := range rd.Messages {
		switch m.To {
		case LocalAppendThread:
			var hs *raftpb.HardState
			if m.Term != 0 {
				hs = &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
			}
			fuzzPersist(t, n, m.Snapshot, m.Entries, hs)
		case LocalApplyThread:
			fuzzApply(n, m.Entries)
		default:
			checkPeerMsgs(t, n, []*raftpb.Message{m})
			continue
		}
		var toPeers []*raftpb.Message
		for _, resp := range m.Responses {
			if resp.To == n.rn.raft.id {
				// Our own acks; refusals (a peer gone from a garbage
				// configuration, say) are fine.
				_ = n.rn.Step(resp)
			} else {
				toPeers = append(toPeers, resp)
			}
		}
		checkPeerMsgs(t, n, toPeers)
	}
}

// checkPeerMsgs fails if a message meant for a peer is malformed.
func checkPeerMsgs(t *testing.T, n *testNode, msgs []*raftpb.Message) {
	t.Helper()
	id := n.rn.raft.id
	for _, m := range msgs {
		if m.To == id || m.To == None || !m.Type.IsKnown() || m.Type.IsLocal() && m.Type != raftpb.MsgProp && m.Type != raftpb.MsgReadIndex {
			t.Fatalf("Ready hands out a malformed message: %s", raftpb.DescribeMessage(m, nil))
		}
	}
}

func fuzzPersist(t *testing.T, n *testNode, snap *raftpb.Snapshot, ents []*raftpb.Entry, hs *raftpb.HardState) {
	t.Helper()
	if snap != nil {
		if err := n.storage.ApplySnapshot(snap); err != nil {
			t.Fatalf("the snapshot to persist does not apply: %v", err)
		}
	}
	if err := n.storage.Append(ents); err != nil {
		t.Fatalf("the entries to persist do not append: %v", err)
	}
	if hs != nil {
		if err := n.storage.SetHardState(hs); err != nil {
			t.Fatal(err)
		}
	}
}

func fuzzApply(n *testNode, ents []*raftpb.Entry) {
	for _, e := range ents {
		if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
			// Garbage from a peer may commit garbage conf changes; an
			// error is the right answer to those.
			if cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data); err == nil {
				_, _ = n.rn.ApplyConfChange(cc)
			}
		}
	}
}

// stepInvariants remembers what must not change from one step to the next.
type stepInvariants struct {
	n         *testNode
	learner   bool
	term      uint64
	commit    uint64
	committed map[uint64]entryRec
}

func newStepInvariants(n *testNode) *stepInvariants {
	pr := n.rn.raft.trk.Progress[n.rn.raft.id]
	return &stepInvariants{n: n, learner: pr != nil && pr.IsLearner, committed: map[uint64]entryRec{}}
}

func (inv *stepInvariants) check(t *testing.T, after string) {
	t.Helper()
	r := inv.n.rn.raft
	l := r.raftLog
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after %s: %s\n%v %s", after, fmt.Sprintf(format, args...), inv.n.rn.BasicStatus(), l)
	}
	if r.Term < inv.term {
		fail("term went back from %d to %d", inv.term, r.Term)
	}
	if l.committed < inv.commit {
		fail("commit went back from %d to %d", inv.commit, l.committed)
	}
	inv.term, inv.commit = r.Term, l.committed
	first, last := l.firstIndex(), l.lastIndex()
	if l.committed > last {
		fail("commit %d beyond last index %d", l.committed, last)
	}
	if l.applied > l.committed {
		fail("applied %d beyond commit %d", l.applied, l.committed)
	}
	prevTerm := uint64(0)
	for i, e := range l.allEntries() {
		if want := first + uint64(i); e.Index != want {
			fail("entry at position %d has index %d, want %d", i, e.Index, want)
		}
		if e.Term < prevTerm {
			fail("term %d at index %d follows term %d", e.Term, e.Index, prevTerm)
		}
		if e.Term > r.Term {
			fail("entry %d has term %d, beyond the node's term %d", e.Index, e.Term, r.Term)
		}
		prevTerm = e.Term
		if e.Index > l.committed {
			continue
		}
		rec := recOf(e)
		if old, ok := inv.committed[e.Index]; ok && old != rec {
			fail("committed entry %d changed from %v to %v", e.Index, old, rec)
		}
		inv.committed[e.Index] = rec
	}
	switch r.state {
	case StateLeader:
		if r.lead != r.id {
			fail("leader with lead=%d", r.lead)
		}
	case StateFollower, StateCandidate, StatePreCandidate:
	default:
		fail("unknown state %d", r.state)
	}
	if inv.learner && r.trk.Progress[r.id] != nil && r.trk.Progress[r.id].IsLearner &&
		(r.state == StateCandidate || r.state == StatePreCandidate || r.state == StateLeader) {
		fail("learner became %s", r.state)
	}
}

// fuzzSeed is one seed corpus entry.
type fuzzSeed struct {
	role uint8
	prog []byte
}

// fuzzSeeds builds the seed corpus: for every role, a few realistic
// messages from each kind of peer, encoded as a fuzz program.
func fuzzSeeds() []fuzzSeed {
	enc := func(m *raftpb.Message, flags byte, extra ...byte) []byte {
		b, err := proto.Marshal(m)
		if err != nil || len(b) > 255 {
			panic(fmt.Sprintf("seed message %v: %v (%d bytes)", m, err, len(b)))
		}
		out := append([]byte{fuzzOpCount, byte(len(b))}, b...)
		out = append(out, flags)
		return append(out, extra...)
	}
	ents := []*raftpb.Entry{{Index: 3, Term: 2, Data: []byte("a")}, {Index: 4, Term: 2, Data: []byte("b")}}
	snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 5, Term: 2, ConfState: &raftpb.ConfState{Voters: peers123}}}
	msgs := [][]byte{
		enc(&raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 2, Index: 2, LogTerm: 1, Commit: 3, Entries: ents}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 2, Index: 9, LogTerm: 2, Commit: 9}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 7}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: 2, Snapshot: snap}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: 2, Snapshot: &raftpb.Snapshot{}}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgVote, From: 3, To: 1, Term: 3, Index: 5, LogTerm: 2}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgPreVote, From: 3, To: 1, Term: 3, Index: 1, LogTerm: 1}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgVoteResp, From: 2, To: 1}, fuzzFixTerm|fuzzFixEpoch, 1),
		enc(&raftpb.Message{Type: raftpb.MsgPreVoteResp, From: 2, To: 1}, fuzzFixTerm|fuzzFixEpoch, 2),
		enc(&raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Index: 3}, fuzzFixTerm|fuzzFixEpoch, 1),
		enc(&raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Index: 3, Reject: true, RejectHint: 9, LogTerm: 5}, fuzzFixTerm|fuzzFixEpoch, 1),
		enc(&raftpb.Message{Type: raftpb.MsgAppResp, From: 3, To: 1, Index: 99}, fuzzFixTerm|fuzzFixEpoch, 1),
		enc(&raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 3, To: 1}, fuzzFixTerm|fuzzFixEpoch, 1),
		enc(&raftpb.Message{Type: raftpb.MsgTransferLeader, From: 3, To: 1}, fuzzFixTerm, 1),
		enc(&raftpb.Message{Type: raftpb.MsgTimeoutNow, From: 2, To: 1}, fuzzFixTerm, 1),
		enc(&raftpb.Message{Type: raftpb.MsgReadIndex, From: 3, To: 1, Entries: []*raftpb.Entry{{Data: []byte("r")}}}, 0),
		enc(&raftpb.Message{Type: raftpb.MsgReadIndexResp, From: 2, To: 1, Index: 40}, fuzzFixTerm, 1),
		enc(&raftpb.Message{Type: raftpb.MsgProp, From: 3, To: 1, Entries: []*raftpb.Entry{{Data: []byte("p")}}}, 0),
		enc(&raftpb.Message{Type: raftpb.MessageType(99), From: 2, To: 1, Term: 2}, 0),
		enc(&raftpb.Message{}, 0xff, 3, 0, 1, 1, 1, 1, 2),
		enc(&raftpb.Message{}, 0xff, 4, 1, 1, 1, 0, 1, 3),
	}
	var out []fuzzSeed
	for role := range 4 * len(fuzzRoles) {
		for _, m := range msgs {
			// Step, run the Ready, tick, step again.
			prog := append(append(append([]byte{}, m...), fuzzOpReady, fuzzOpTick), m...)
			out = append(out, fuzzSeed{uint8(role), prog})
		}
		out = append(out, fuzzSeed{uint8(role), []byte{fuzzOpPropose, 2, 'h', 'i', fuzzOpReady, fuzzOpTick, fuzzOpReady}})
	}
	return out
}

// TestFuzzStepSeeds checks that the role setups reach every role, in
// both storage modes.
func TestFuzzStepSeeds(t *testing.T) {
	want := map[string]StateType{"follower": StateFollower, "candidate": StateCandidate,
		"pre-candidate": StatePreCandidate, "leader": StateLeader, "learner": StateFollower}
	for role := range 4 * len(fuzzRoles) {
		n := fuzzNode(t, uint8(role))
		name := fuzzRoles[role%len(fuzzRoles)].name
		if got := n.rn.raft.state; got != want[name] {
			t.Errorf("role byte %d (%s) sets up a %s", role, name, got)
		}
		if async := role/(2*len(fuzzRoles))%2 == 1; n.rn.asyncStorageWrites != async {
			t.Errorf("role byte %d: async storage writes %t, want %t", role, n.rn.asyncStorageWrites, async)
		}
		if pr := n.rn.raft.trk.Progress[1]; name == "learner" && (pr == nil || !pr.IsLearner) {
			t.Errorf("the learner setup is not a learner: %v", n.rn.raft.trk.Config)
		}
	}
}
