package raft

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/seed901663da/raft/raftpb"
)

// The tests in this file hand a RawNode messages no correct peer sends and
// check that each is refused with a sentinel error, or ignored with a log
// line, without a panic and without changing the node's state.

// badInputNode returns node 1 of peers123 with log [1 1] at term 1 in the
// given role ("follower", knowing leader 2, or "leader"), and the observer
// of its log.
func badInputNode(t *testing.T, role string) (*testNode, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 1}),
		func(c *Config) { c.Logger = zap.New(core) })
	switch role {
	case "follower":
		if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1, Commit: 1}); err != nil {
			t.Fatal(err)
		}
	case "leader":
		makeLeader(t, n)
		// Node 2 acknowledges everything, so its progress is exact.
		r := n.rn.raft
		if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: r.Term,
			Index: r.raftLog.lastIndex(), Epoch: r.trk.Progress[2].Epoch}); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown role %q", role)
	}
	n.drain(t)
	logs.TakeAll()
	return n, logs
}

// nodeFingerprint renders the node state that bad input must not change:
// hard and soft state, the log with its positions, the configuration and
// the leader's view of its followers.
func nodeFingerprint(n *testNode) string {
	r := n.rn.raft
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n%s\nfirst=%d\n", n.rn.BasicStatus(), r.raftLog, r.raftLog.firstIndex())
	for _, e := range r.raftLog.allEntries() {
		fmt.Fprintf(&b, "%d/%d %q\n", e.Term, e.Index, e.Data)
	}
	fmt.Fprintf(&b, "config %s reads %d\n", r.trk.Config, len(r.readStates))
	if r.state == StateLeader {
		for _, id := range r.trk.VoterNodes() {
			pr := r.trk.Progress[id]
			fmt.Fprintf(&b, "%d: match=%d next=%d %s\n", id, pr.Match, pr.Next, pr.State)
		}
	}
	return b.String()
}

func TestStepBadInput(t *testing.T) {
	epoch := func(r *raft, id uint64) uint64 { return r.trk.Progress[id].Epoch }
	snapWith := func(cs *raftpb.ConfState) *raftpb.Snapshot {
		return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 10, Term: 1, ConfState: cs}}
	}
	tests := []struct {
		name string
		role string
		msg  func(r *raft) *raftpb.Message
		// wantErr is the sentinel Step returns; nil for input that is
		// accepted but ignored.
		wantErr error
		// wantLog, when set, is a message the node must log about it.
		wantLog string
	}{
		// Refused by RawNode.Step before the state machine sees them.
		{"nil message", "follower", func(*raft) *raftpb.Message { return nil }, ErrMalformedMessage, ""},
		{"unknown type", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MessageType(1000), From: 2, To: 1, Term: r.Term}
		}, ErrUnknownMessageType, ""},
		{"negative type", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MessageType(-1), From: 2, To: 1, Term: r.Term}
		}, ErrUnknownMessageType, ""},
		{"local MsgHup from the network", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHup, From: 2, To: 1, Term: r.Term}
		}, ErrStepLocalMsg, ""},
		{"local MsgCheckQuorum from the network", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgCheckQuorum, From: 2, To: 1, Term: r.Term}
		}, ErrStepLocalMsg, ""},
		{"storage ack without AsyncStorageWrites", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgStorageAppendResp, From: LocalAppendThread, To: 1, Index: 2, LogTerm: 1}
		}, ErrStepLocalMsg, ""},
		{"addressed to another node", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 3, Term: r.Term, Index: 2, LogTerm: 1, Commit: 2}
		}, ErrMalformedMessage, ""},
		{"heartbeat without a sender", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHeartbeat, To: 1, Term: r.Term + 1}
		}, ErrMalformedMessage, ""},
		{"heartbeat claiming to come from this node", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 1, Term: r.Term}
		}, ErrMalformedMessage, ""},
		{"vote request claiming to come from this node", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgVote, From: 1, To: 1, Term: r.Term + 1, Index: 9, LogTerm: 9}
		}, ErrMalformedMessage, ""},
		{"rejection claiming to come from this leader", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgAppResp, From: 1, To: 1, Term: r.Term, Index: 3, Reject: true, RejectHint: 1,
				Epoch: epoch(r, 1)}
		}, ErrMalformedMessage, ""},
		// Term 0 marks local messages inside the state machine; from a
		// peer it used to skip the term check and reset the term to 0.
		{"heartbeat without a term", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1}
		}, ErrMalformedMessage, ""},
		{"append without a term to a leader", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Index: 3, LogTerm: 2}
		}, ErrMalformedMessage, ""},
		{"append response from a node not in the configuration", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgAppResp, From: 7, To: 1, Term: r.Term, Index: 3}
		}, ErrStepPeerNotFound, ""},
		{"heartbeat response from a node not in the configuration", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 7, To: 1, Term: r.Term}
		}, ErrStepPeerNotFound, ""},

		// Accepted by Step, ignored by the state machine.
		{"transfer request from a node not in the configuration", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgTransferLeader, From: 7, To: 1, Term: r.Term}
		}, nil, "no progress available for peer"},
		{"heartbeat commit beyond our log", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: r.Term, Commit: 50}
		}, nil, "ignored heartbeat commit beyond our log"},
		{"append whose previous index is past our log", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: r.Term, Index: 40, LogTerm: 1, Commit: 41,
				Entries: []*raftpb.Entry{{Index: 41, Term: 1}}}
		}, nil, "rejected MsgApp"},
		{"append with a gap between entries", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: r.Term, Index: 2, LogTerm: 1, Commit: 2,
				Entries: []*raftpb.Entry{{Index: 3, Term: 1}, {Index: 5, Term: 1}}}
		}, nil, "ignored malformed MsgApp"},
		{"append with a nil entry", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: r.Term, Index: 2, LogTerm: 1, Commit: 2,
				Entries: []*raftpb.Entry{nil}}
		}, nil, "ignored malformed MsgApp"},
		{"append with decreasing terms", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: r.Term, Index: 2, LogTerm: 1, Commit: 2,
				Entries: []*raftpb.Entry{{Index: 3, Term: 1}, {Index: 4, Term: 0}}}
		}, nil, "ignored malformed MsgApp"},
		{"append with an entry from a future term", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: r.Term, Index: 2, LogTerm: 1, Commit: 2,
				Entries: []*raftpb.Entry{{Index: 3, Term: r.Term + 5}}}
		}, nil, "ignored malformed MsgApp"},
		{"snapshot message without a snapshot", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term}
		}, nil, "ignored MsgSnap without snapshot metadata"},
		{"snapshot with nil metadata", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term, Snapshot: &raftpb.Snapshot{Data: []byte("x")}}
		}, nil, "ignored MsgSnap without snapshot metadata"},
		{"snapshot whose configuration lists a voter twice", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term,
				Snapshot: snapWith(&raftpb.ConfState{Voters: []uint64{1, 3, 3}})}
		}, nil, "ignored snapshot with invalid ConfState"},
		{"snapshot whose configuration is both voter and learner", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term,
				Snapshot: snapWith(&raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{2}})}
		}, nil, "ignored snapshot with invalid ConfState"},
		{"snapshot of a term beyond the sender's", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term,
				Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 10, Term: r.Term + 4,
					ConfState: &raftpb.ConfState{Voters: peers123}}}}
		}, nil, "ignored snapshot of a term beyond the sender's"},
		{"snapshot without this node", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgSnap, From: 2, To: 1, Term: r.Term,
				Snapshot: snapWith(&raftpb.ConfState{Voters: []uint64{2, 3}})}
		}, nil, "not in the ConfState"},
		{"read index answer without its request", "follower", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgReadIndexResp, From: 2, To: 1, Term: r.Term, Index: 2}
		}, nil, "ignored malformed MsgReadIndexResp"},
		{"append response beyond the leader's log", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgAppResp, From: 3, To: 1, Term: r.Term, Index: 99, Epoch: epoch(r, 3)}
		}, nil, "ignored append response beyond our last index"},
		{"rejection hinting beyond the leader's log", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: r.Term, Index: 1, Reject: true,
				RejectHint: 1000, LogTerm: 50, Epoch: epoch(r, 2)}
		}, nil, "received append rejection"},
		{"read index request without a context", "leader", func(r *raft) *raftpb.Message {
			return &raftpb.Message{Type: raftpb.MsgReadIndex, From: 2, To: 1, Term: r.Term}
		}, nil, "ignored malformed MsgReadIndex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, logs := badInputNode(t, tt.role)
			before := nodeFingerprint(n)
			err := n.rn.Step(tt.msg(n.rn.raft))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Step: %v, want it accepted and ignored", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Step: %v, want %v", err, tt.wantErr)
			}
			// Whatever the node answers, processing it changes nothing.
			n.drain(t)
			if after := nodeFingerprint(n); after != before {
				t.Fatalf("state changed:\nbefore: %s\nafter:  %s", before, after)
			}
			if tt.wantLog != "" && logs.FilterMessageSnippet(tt.wantLog).Len() == 0 {
				var got []string
				for _, e := range logs.All() {
					got = append(got, e.Message)
				}
				t.Fatalf("no log line containing %q; logged %q", tt.wantLog, got)
			}
		})
	}
}

// TestStepRejectionHintWithinLog checks the follower's side of a mismatch:
// a rejection never hints at an index past its own log, however far ahead
// the leader's previous index is.
func TestStepRejectionHintWithinLog(t *testing.T) {
	n, _ := badInputNode(t, "follower")
	last := n.rn.raft.raftLog.lastIndex()
	if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 1, Index: 1000, LogTerm: 1, Commit: 1000}); err != nil {
		t.Fatal(err)
	}
	resps := ofType(n.drain(t), raftpb.MsgAppResp)
	if len(resps) != 1 || !resps[0].Reject || resps[0].RejectHint > last {
		t.Fatalf("got %v, want one rejection hinting at most %d", resps, last)
	}
}

// TestStepCommitBeyondSenderKnowledge checks that an append carrying a
// commit index beyond its own entries only commits what it carried.
func TestStepCommitBeyondSenderKnowledge(t *testing.T) {
	n, _ := badInputNode(t, "follower")
	if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 1, Index: 2, LogTerm: 1, Commit: 500,
		Entries: []*raftpb.Entry{{Index: 3, Term: 1, Data: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	n.drain(t)
	if got := n.rn.raft.raftLog.committed; got != 3 {
		t.Fatalf("commit = %d, want 3 (the last entry the append carried)", got)
	}
}

// TestProposeBadEntries checks that the leader drops proposals it cannot
// append, with ErrProposalDropped.
func TestProposeBadEntries(t *testing.T) {
	for _, tc := range []struct {
		name string
		ents []*raftpb.Entry
	}{
		{"no entries", nil},
		{"a nil entry", []*raftpb.Entry{{Data: []byte("a")}, nil}},
		{"an undecodable conf change", []*raftpb.Entry{{Type: raftpb.EntryConfChange, Data: []byte{0xff, 0xff}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, _ := badInputNode(t, "leader")
			before := nodeFingerprint(n)
			err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Entries: tc.ents})
			if !errors.Is(err, ErrProposalDropped) {
				t.Fatalf("Step: %v, want ErrProposalDropped", err)
			}
			n.drain(t)
			if after := nodeFingerprint(n); after != before {
				t.Fatalf("state changed:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
}

// TestStepForgedStorageAcks checks that with AsyncStorageWrites, storage
// acks naming what the node never handed out (which only a forged or
// corrupted message can do) are ignored: they used to break applied <=
// committed and panic. Found by FuzzStep.
func TestStepForgedStorageAcks(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  *raftpb.Message
		log  string
	}{
		{"apply ack beyond what was handed out", &raftpb.Message{Type: raftpb.MsgStorageApplyResp, From: LocalApplyThread, To: 1,
			Entries: []*raftpb.Entry{{Index: 3, Term: 1}}}, "ignored storage apply ack"},
		{"apply ack with a nil entry", &raftpb.Message{Type: raftpb.MsgStorageApplyResp, From: LocalApplyThread, To: 1,
			Entries: []*raftpb.Entry{nil, {Index: 0}}}, "ignored storage apply ack"},
		{"append ack of a snapshot beyond the commit index", &raftpb.Message{Type: raftpb.MsgStorageAppendResp, From: LocalAppendThread, To: 1,
			Term: 1, Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 50, Term: 1}}}, "ignored storage ack of a snapshot"},
		{"stale append ack of a snapshot beyond the commit index", &raftpb.Message{Type: raftpb.MsgStorageAppendResp, From: LocalAppendThread, To: 1,
			Term: 1, Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 50, Term: 1}}}, "ignored storage ack of a snapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			n := newTestNode(t, 1, newVoterStorage(t, peers123, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 1}),
				func(c *Config) { c.AsyncStorageWrites = true; c.Logger = zap.New(core) })
			if strings.HasPrefix(tc.name, "stale") {
				// A newer term makes the ack one of an older term.
				if err := n.rn.Step(&raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 1}); err != nil {
					t.Fatal(err)
				}
			}
			before := nodeFingerprint(n)
			if err := n.rn.Step(tc.msg); err != nil {
				t.Fatalf("Step: %v", err)
			}
			if after := nodeFingerprint(n); after != before {
				t.Fatalf("state changed:\nbefore: %s\nafter:  %s", before, after)
			}
			if logs.FilterMessageSnippet(tc.log).Len() == 0 {
				t.Fatalf("nothing logged about it")
			}
		})
	}
}
