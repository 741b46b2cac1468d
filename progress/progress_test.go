package progress

import (
	"testing"
)

// pr builds a progress in the given state; inflight messages and probe
// pauses are added by the tests that need them.
func pr(state StateType, match, next uint64) *Progress {
	p := &Progress{Match: match, Next: next, State: state, Inflights: NewInflights(4, 0), RecentActive: true}
	if state == StateSnapshot {
		p.PendingSnapshot = next - 1
	}
	return p
}

// checkInvariants fails the test if p breaks one of the documented
// invariants.
func checkInvariants(t *testing.T, p *Progress) {
	t.Helper()
	if p.Match >= p.Next {
		t.Errorf("%s: Match must be below Next", p)
	}
	if p.State != StateSnapshot && p.PendingSnapshot != 0 {
		t.Errorf("%s: pending snapshot outside StateSnapshot", p)
	}
	if p.State != StateReplicate && p.Inflights.Count() != 0 {
		t.Errorf("%s: inflight messages outside StateReplicate", p)
	}
}

func TestStateTypeString(t *testing.T) {
	for s, want := range map[StateType]string{StateProbe: "StateProbe", StateReplicate: "StateReplicate", StateSnapshot: "StateSnapshot", 9: "StateType(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(s), got, want)
		}
	}
	if (Progress{}).State != StateProbe {
		t.Error("the zero Progress is not in StateProbe")
	}
}

func TestProgressMaybeUpdate(t *testing.T) {
	for _, tc := range []struct {
		name                string
		match, next, update uint64
		wantOK              bool
		wantMatch, wantNext uint64
	}{
		{"stale ack below match", 5, 10, 3, false, 5, 10},
		{"repeated ack at match", 5, 10, 5, false, 5, 10},
		{"ack of an inflight message", 5, 10, 7, true, 7, 10},
		{"ack of everything sent", 5, 10, 9, true, 9, 10},
		{"ack beyond next moves next too", 5, 10, 12, true, 12, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pr(StateProbe, tc.match, tc.next)
			p.MsgAppProbesPaused = true
			if got := p.MaybeUpdate(tc.update); got != tc.wantOK {
				t.Errorf("MaybeUpdate(%d) = %v, want %v", tc.update, got, tc.wantOK)
			}
			if p.Match != tc.wantMatch || p.Next != tc.wantNext {
				t.Errorf("match=%d next=%d, want %d %d", p.Match, p.Next, tc.wantMatch, tc.wantNext)
			}
			// Only progress proves the peer answered the probe.
			if p.MsgAppProbesPaused != !tc.wantOK {
				t.Errorf("MsgAppProbesPaused=%v after update=%v", p.MsgAppProbesPaused, tc.wantOK)
			}
			checkInvariants(t, p)
		})
	}
}

func TestProgressMaybeDecrTo(t *testing.T) {
	for _, tc := range []struct {
		name               string
		state              StateType
		match, next        uint64
		rejected, hint     uint64
		wantOK             bool
		wantNext           uint64
		wantPausedAfterwds bool
	}{
		// StateReplicate: anything at or below Match is stale; otherwise
		// restart right after Match, ignoring the hint.
		{"replicate: rejected below match", StateReplicate, 5, 10, 4, 4, false, 10, false},
		{"replicate: rejected at match", StateReplicate, 5, 10, 5, 5, false, 10, false},
		{"replicate: rejected above match", StateReplicate, 5, 10, 7, 6, true, 6, false},
		{"replicate: hint ignored", StateReplicate, 5, 10, 9, 2, true, 6, false},

		// StateProbe: only a rejection of the outstanding probe (Next-1)
		// counts; Next follows the hint within (Match, rejected].
		{"probe: not the outstanding probe", StateProbe, 0, 10, 5, 5, false, 10, true},
		{"probe: stale probe after next moved", StateProbe, 0, 10, 10, 3, false, 10, true},
		{"probe: hint far back", StateProbe, 0, 10, 9, 3, true, 4, false},
		{"probe: hint right before rejected", StateProbe, 0, 10, 9, 8, true, 9, false},
		{"probe: hint beyond rejected is capped", StateProbe, 0, 10, 9, 20, true, 9, false},
		{"probe: hint below match is raised", StateProbe, 5, 10, 9, 1, true, 6, false},
		{"probe: hint zero on empty peer log", StateProbe, 0, 10, 9, 0, true, 1, false},

		// StateSnapshot follows the probe rules; its only outstanding
		// message is the snapshot, at Next-1.
		{"snapshot: stale rejection", StateSnapshot, 0, 21, 8, 8, false, 21, true},
		{"snapshot: rejection at the snapshot", StateSnapshot, 0, 21, 20, 12, true, 13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pr(tc.state, tc.match, tc.next)
			p.MsgAppProbesPaused = tc.state == StateProbe
			if got := p.MaybeDecrTo(tc.rejected, tc.hint); got != tc.wantOK {
				t.Errorf("MaybeDecrTo(%d, %d) = %v, want %v", tc.rejected, tc.hint, got, tc.wantOK)
			}
			if p.Next != tc.wantNext || p.Match != tc.match {
				t.Errorf("match=%d next=%d, want match unchanged at %d and next %d", p.Match, p.Next, tc.match, tc.wantNext)
			}
			if p.IsPaused() != tc.wantPausedAfterwds {
				t.Errorf("IsPaused()=%v, want %v", p.IsPaused(), tc.wantPausedAfterwds)
			}
			if p.Match >= p.Next {
				t.Errorf("Next %d not above Match %d", p.Next, p.Match)
			}
		})
	}
}

func TestProgressIsPaused(t *testing.T) {
	probe := pr(StateProbe, 0, 1)
	if probe.IsPaused() {
		t.Error("fresh probe is paused")
	}
	probe.SentEntries(1, 10)
	if !probe.IsPaused() {
		t.Error("probe not paused after sending a probe")
	}

	repl := pr(StateReplicate, 0, 1)
	for i := range 4 {
		if repl.IsPaused() {
			t.Fatalf("replicate paused after %d of 4 messages", i)
		}
		repl.SentEntries(1, 10)
	}
	if !repl.IsPaused() {
		t.Error("replicate not paused with a full inflight window")
	}
	repl.MsgAppProbesPaused = true // ignored outside StateProbe
	repl.Inflights.FreeLE(1)
	if repl.IsPaused() {
		t.Error("replicate paused after freeing a slot")
	}

	if !pr(StateSnapshot, 0, 11).IsPaused() {
		t.Error("snapshot not paused")
	}
}

func TestProgressBecomeProbe(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        *Progress
		wantNext uint64
	}{
		{"from replicate", pr(StateReplicate, 5, 9), 6},
		{"from probe", pr(StateProbe, 5, 6), 6},
		{"from snapshot, resume after the snapshot", pr(StateSnapshot, 5, 11), 11},
		{"from snapshot, match already past it", func() *Progress {
			p := pr(StateSnapshot, 1, 11)
			p.MaybeUpdate(14)
			return p
		}(), 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.MsgAppProbesPaused = true
			tc.p.BecomeProbe()
			if tc.p.State != StateProbe || tc.p.Next != tc.wantNext || tc.p.PendingSnapshot != 0 || tc.p.MsgAppProbesPaused {
				t.Errorf("got %s (probes paused %v), want StateProbe next=%d, unpaused, no pending snapshot",
					tc.p, tc.p.MsgAppProbesPaused, tc.wantNext)
			}
			checkInvariants(t, tc.p)
		})
	}
}

func TestProgressBecomeReplicateAndSnapshot(t *testing.T) {
	p := pr(StateProbe, 5, 9)
	p.BecomeReplicate()
	if p.State != StateReplicate || p.Next != 6 {
		t.Fatalf("BecomeReplicate: %s, want StateReplicate next=6", p)
	}
	p.SentEntries(3, 30)
	p.BecomeSnapshot(20)
	if p.State != StateSnapshot || p.PendingSnapshot != 20 || p.Next != 21 || p.Inflights.Count() != 0 {
		t.Fatalf("BecomeSnapshot(20): %s, want StateSnapshot pending 20, next 21, no inflights", p)
	}
	checkInvariants(t, p)
	mustPanic(t, "below match", func() { pr(StateProbe, 30, 31).BecomeSnapshot(29) })
}

func TestProgressSentEntries(t *testing.T) {
	p := pr(StateReplicate, 5, 6)
	p.SentEntries(0, 0) // empty append (e.g. commit only): nothing in flight
	if p.Next != 6 || p.Inflights.Count() != 0 {
		t.Fatalf("empty append: %s", p)
	}
	p.SentEntries(3, 300)
	p.SentEntries(2, 200)
	if p.Next != 11 || p.Inflights.Count() != 2 || p.Inflights.Bytes() != 500 {
		t.Fatalf("after 3+2 entries: %s with %d bytes, want next=11 and 2 messages of 500 bytes", p, p.Inflights.Bytes())
	}
	// The window records each message by its last index, so acknowledging
	// index 8 frees exactly the first message.
	p.Inflights.FreeLE(8)
	if p.Inflights.Count() != 1 || p.Inflights.Bytes() != 200 {
		t.Fatalf("after acking 8: %d messages of %d bytes, want 1 of 200", p.Inflights.Count(), p.Inflights.Bytes())
	}

	probe := pr(StateProbe, 5, 6)
	probe.SentEntries(0, 0)
	if probe.MsgAppProbesPaused {
		t.Error("empty append paused probing")
	}
	probe.SentEntries(4, 400)
	if !probe.MsgAppProbesPaused || probe.Next != 6 || probe.Inflights.Count() != 0 {
		t.Errorf("probe after sending: %s, want paused with next unchanged", probe)
	}

	mustPanic(t, "StateSnapshot", func() { pr(StateSnapshot, 0, 11).SentEntries(1, 1) })
}

// TestProgressSentMoreEntries checks that entries joining a queued append
// move Next and grow that append's inflight record instead of adding one,
// and that anything but the newest append of StateReplicate is refused.
func TestProgressSentMoreEntries(t *testing.T) {
	p := pr(StateReplicate, 5, 6)
	if p.SentMoreEntries(2, 200) {
		t.Fatalf("joined with nothing in flight: %s", p)
	}
	p.SentEntries(3, 300) // entries 6..8
	if !p.SentMoreEntries(2, 200) {
		t.Fatalf("could not join the append ending at 8: %s", p)
	}
	if p.Next != 11 || p.Inflights.Count() != 1 || p.Inflights.Bytes() != 500 {
		t.Fatalf("after 3+2 joined entries: %s with %d bytes, want next=11 and 1 message of 500 bytes", p, p.Inflights.Bytes())
	}
	// The joined message is acknowledged as a whole, by its new last index.
	p.Inflights.FreeLE(8)
	if p.Inflights.Count() != 1 {
		t.Fatalf("acking 8 freed the message that now ends at 10: %s", p)
	}
	p.Inflights.FreeLE(10)
	if p.Inflights.Count() != 0 || p.Inflights.Bytes() != 0 {
		t.Fatalf("acking 10 left %s with %d bytes", p, p.Inflights.Bytes())
	}
	// Next moved back below the newest append (a rejection): no joining.
	p.SentEntries(2, 200) // 11..12
	p.Next = 12
	if p.SentMoreEntries(1, 100) || p.Next != 12 || p.Inflights.Bytes() != 200 {
		t.Fatalf("joined an append not ending at Next-1: %s with %d bytes", p, p.Inflights.Bytes())
	}
	if pr(StateProbe, 5, 6).SentMoreEntries(1, 100) {
		t.Error("joined in StateProbe")
	}
	p = pr(StateReplicate, 5, 6)
	p.SentEntries(1, 100)
	if p.SentMoreEntries(0, 0) || p.Next != 7 {
		t.Errorf("joined zero entries: %s", p)
	}
	checkInvariants(t, p)
}

func TestProgressCommitTracking(t *testing.T) {
	p := pr(StateReplicate, 5, 6)
	p.SentEntries(4, 40) // peer may hold up to 9
	if !p.CanBumpCommit(7) {
		t.Fatal("commit 7 not sendable to a peer that was told nothing")
	}
	p.SentCommit(7)
	if p.CanBumpCommit(7) || p.CanBumpCommit(6) {
		t.Error("can bump to a commit index already sent")
	}
	if !p.CanBumpCommit(9) {
		t.Error("cannot bump to 9 although the peer may hold up to 9 and knows 7")
	}
	p.SentCommit(9)
	if p.CanBumpCommit(12) {
		t.Error("can bump past everything the peer may hold")
	}
	// A rejection moves Next back to 6; the peer can only have committed up
	// to 5 of what it was told, so it must hear about commits again.
	p.MaybeDecrTo(9, 3)
	if p.sentCommit != 5 {
		t.Errorf("sentCommit=%d after Next moved back to %d, want 5", p.sentCommit, p.Next)
	}
	p.BecomeSnapshot(20)
	// Applying the snapshot commits everything in it, and the peer holds
	// nothing beyond it yet, so there is nothing to tell it.
	if p.sentCommit != 20 || p.CanBumpCommit(25) {
		t.Errorf("after a snapshot at 20: sentCommit=%d, CanBumpCommit(25)=%v; want 20, false", p.sentCommit, p.CanBumpCommit(25))
	}
}

func TestProgressString(t *testing.T) {
	full := pr(StateReplicate, 11, 12)
	for range 4 {
		full.SentEntries(1, 10)
	}
	learner := pr(StateSnapshot, 4, 21)
	learner.IsLearner = true
	learner.RecentActive = false
	probe := pr(StateProbe, 0, 1)
	probe.SentEntries(1, 1)
	for _, tc := range []struct {
		p    *Progress
		want string
	}{
		{pr(StateProbe, 3, 4), "StateProbe match=3 next=4"},
		{probe, "StateProbe match=0 next=1 paused"},
		{full, "StateReplicate match=11 next=16 paused inflight=4[full]"},
		{learner, "StateSnapshot match=4 next=21 learner paused pendingSnap=20 inactive"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	m := ProgressMap{10: pr(StateProbe, 1, 2), 2: pr(StateReplicate, 3, 4)}
	if got, want := m.String(), "2: StateReplicate match=3 next=4\n10: StateProbe match=1 next=2\n"; got != want {
		t.Errorf("ProgressMap.String() = %q, want %q", got, want)
	}
}
