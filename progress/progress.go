package progress

import (
	"fmt"
	"slices"
	"strings"
)

// Progress is the leader's view of one peer (follower or learner): how much
// of the log the peer holds, what to send it next, and in which replication
// mode. The Raft core updates it as it sends appends and processes their
// responses; see the package documentation for the states.
//
// Invariant: 0 <= Match < Next. Everything up to Match is known to be on the
// peer and to match the leader's log; Next is the first index not yet sent
// (in StateReplicate) or the index to probe with (in StateProbe).
type Progress struct {
	// Match is the highest log index known to be replicated on the peer and
	// to agree with the leader's log (the paper's matchIndex, §5.3).
	Match uint64
	// Next is the index of the next entry to send (the paper's nextIndex).
	// Invariant: Next > Match.
	Next uint64

	// sentCommit is the highest commit index the leader has told the peer
	// about. The peer only commits up to the last entry it holds (paper
	// Figure 2, AppendEntries rule 5), so whenever Next moves back it is
	// clamped to Next-1 rather than trusted further.
	sentCommit uint64

	// State is the replication mode.
	State StateType

	// PendingSnapshot is the index of the snapshot sent to the peer while in
	// StateSnapshot, and 0 in the other states.
	PendingSnapshot uint64

	// RecentActive is true if the leader heard from the peer recently. The
	// core resets it periodically for check-quorum (thesis §6.2) and sets
	// it on any message from the peer.
	RecentActive bool

	// MsgAppProbesPaused is set in StateProbe once an append (a probe) has
	// been sent, and cleared when the peer answers, so that a peer whose
	// log position is unknown gets one probe at a time rather than a flood
	// of appends that would all be rejected. Only meaningful in StateProbe.
	MsgAppProbesPaused bool

	// Inflights is the window of appends sent and not yet acknowledged in
	// StateReplicate; it is empty in the other states. Never nil.
	Inflights *Inflights

	// IsLearner is true if the peer receives the log but does not vote
	// (thesis §4.2.1, catching up new servers).
	IsLearner bool

	// Epoch identifies this record among all the records the leader (or
	// candidate) has kept for the same peer ID. It is assigned when the
	// record is created and travels in raftpb.Message.Epoch; a response
	// carrying another epoch was sent to an earlier incarnation of the
	// peer (removed and re-added since) and must not update this record.
	// Zero means not yet assigned. Copies made by confchange keep it.
	Epoch uint64
}

// ResetState switches to state and clears everything that belongs to a
// single stay in a state: the probe pause, the pending snapshot and the
// inflight window. Match and Next are left to the caller.
func (pr *Progress) ResetState(state StateType) {
	pr.MsgAppProbesPaused = false
	pr.PendingSnapshot = 0
	pr.State = state
	pr.Inflights.Reset()
}

// BecomeProbe switches to StateProbe, typically after a rejected append, an
// unreachable peer, or a snapshot report. Probing resumes right after Match.
// Coming from StateSnapshot it resumes after the pending snapshot if that is
// further: when the snapshot was applied, Match may not have caught up yet,
// and probing after it saves a round trip; when it failed, the probe is
// simply rejected and Next moves back as usual.
func (pr *Progress) BecomeProbe() {
	next := pr.Match + 1
	if pr.State == StateSnapshot {
		next = max(next, pr.PendingSnapshot+1)
	}
	pr.ResetState(StateProbe)
	pr.setNext(next)
}

// BecomeReplicate switches to StateReplicate, once a probe found the point
// where the peer's log matches, and streams from right after Match.
func (pr *Progress) BecomeReplicate() {
	pr.ResetState(StateReplicate)
	pr.setNext(pr.Match + 1)
}

// BecomeSnapshot switches to StateSnapshot after the leader sent the peer a
// snapshot at index snapshoti, because the entries the peer needs have been
// compacted. Replication resumes after the snapshot. snapshoti must not be
// below Match: a snapshot is only sent when the peer lacks compacted
// entries, which all lie above Match; anything else is a bug and panics.
func (pr *Progress) BecomeSnapshot(snapshoti uint64) {
	if snapshoti < pr.Match {
		panic(fmt.Sprintf("progress: snapshot at %d is below match %d", snapshoti, pr.Match))
	}
	pr.ResetState(StateSnapshot)
	pr.PendingSnapshot = snapshoti
	pr.Next = snapshoti + 1
	// Everything in a snapshot is committed, so applying it tells the peer
	// the commit index is at least snapshoti.
	pr.sentCommit = snapshoti
}

// setNext moves Next and keeps sentCommit within what the peer can hold.
func (pr *Progress) setNext(next uint64) {
	pr.Next = next
	pr.sentCommit = min(pr.sentCommit, next-1)
}

// SentEntries records that an append carrying entries entries and bytes of
// payload was just sent, starting at Next. In StateReplicate the append is
// optimistic: Next moves past it and it joins the inflight window (the caller
// checks IsPaused first). In StateProbe a non-empty append is the probe, and
// further appends pause until it is answered. Sending appends in
// StateSnapshot is a bug and panics.
func (pr *Progress) SentEntries(entries int, bytes uint64) {
	switch pr.State {
	case StateReplicate:
		if entries > 0 {
			pr.Next += uint64(entries)
			pr.Inflights.Add(pr.Next-1, bytes)
		}
	case StateProbe:
		if entries > 0 {
			pr.MsgAppProbesPaused = true
		}
	default:
		panic(fmt.Sprintf("progress: sending %d entries in %s", entries, pr.State))
	}
}

// SentMoreEntries records that entries more entries with bytes of payload
// joined the last append sent to the peer, which had not left yet, rather
// than going out in an append of their own: Next moves past them and the
// append's inflight record grows, so the window still counts one message.
// Only the newest inflight append of StateReplicate can grow, and only if
// it ends right before Next; otherwise SentMoreEntries reports false and
// changes nothing, and the caller sends a new append.
func (pr *Progress) SentMoreEntries(entries int, bytes uint64) bool {
	if pr.State != StateReplicate || entries <= 0 {
		return false
	}
	end := pr.Next - 1 + uint64(entries)
	if !pr.Inflights.ExtendLast(pr.Next-1, end, bytes) {
		return false
	}
	pr.Next = end + 1
	return true
}

// CanBumpCommit reports whether telling the peer about commit index index
// would teach it something: index is beyond what it was last told, and the
// last commit index sent does not already cover all the entries the peer
// may hold (up to Next-1), since the peer cannot commit past its own log.
func (pr *Progress) CanBumpCommit(index uint64) bool {
	return index > pr.sentCommit && pr.sentCommit < pr.Next-1
}

// SentCommit records that commit index commit was sent to the peer.
func (pr *Progress) SentCommit(commit uint64) {
	pr.sentCommit = commit
}

// MaybeUpdate handles an append acknowledgement for index n: the peer's log
// matches the leader's up to n. It reports whether Match moved forward; if
// so the peer answered, which also unpauses probing. Next never moves
// backwards here, since later appends may already be in flight.
// Acknowledgements arrive out of order, so an n at or below Match is not an
// error, just old news.
func (pr *Progress) MaybeUpdate(n uint64) bool {
	updated := false
	if n > pr.Match {
		pr.Match = n
		pr.MsgAppProbesPaused = false
		updated = true
	}
	pr.Next = max(pr.Next, n+1)
	return updated
}

// MaybeDecrTo handles the rejection of an append whose previous entry was at
// index rejected; matchHint is the peer's hint of the highest index at
// which its log may still match (paper §5.3, the optimisation at the end of
// the section). It reports whether Next moved back, false meaning the
// rejection is stale and was ignored.
//
// In StateReplicate, a rejection at or below Match must come from an older
// append, because everything up to Match is known to match; otherwise the
// pipeline broke, and Next restarts after Match (the caller then probes).
// In the other states only one probe is outstanding, at Next-1, so any
// other rejection is stale; otherwise Next moves to the hint, but never
// beyond the rejected index nor to or below Match.
func (pr *Progress) MaybeDecrTo(rejected, matchHint uint64) bool {
	if pr.State == StateReplicate {
		if rejected <= pr.Match {
			return false
		}
		pr.setNext(pr.Match + 1)
		return true
	}
	if pr.Next-1 != rejected {
		return false
	}
	pr.setNext(max(min(rejected, matchHint+1), pr.Match+1))
	pr.MsgAppProbesPaused = false
	return true
}

// IsPaused reports whether the leader should hold back appends to the peer:
// a probe is outstanding (StateProbe), the inflight window is full
// (StateReplicate), or a snapshot is pending (StateSnapshot). Heartbeats
// are not affected.
func (pr *Progress) IsPaused() bool {
	switch pr.State {
	case StateProbe:
		return pr.MsgAppProbesPaused
	case StateReplicate:
		return pr.Inflights.Full()
	case StateSnapshot:
		return true
	}
	panic(fmt.Sprintf("progress: unknown state %s", pr.State))
}

// String describes the progress on one line, listing only notable facts,
// e.g. "StateReplicate match=11 next=15 paused inflight=3[full]" or
// "StateSnapshot match=4 next=21 learner paused pendingSnap=20 inactive".
func (pr *Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s match=%d next=%d", pr.State, pr.Match, pr.Next)
	if pr.IsLearner {
		b.WriteString(" learner")
	}
	if pr.IsPaused() {
		b.WriteString(" paused")
	}
	if pr.PendingSnapshot > 0 {
		fmt.Fprintf(&b, " pendingSnap=%d", pr.PendingSnapshot)
	}
	if !pr.RecentActive {
		b.WriteString(" inactive")
	}
	if n := pr.Inflights.Count(); n > 0 {
		fmt.Fprintf(&b, " inflight=%d", n)
		if pr.Inflights.Full() {
			b.WriteString("[full]")
		}
	}
	return b.String()
}

// ProgressMap maps peer IDs to their progress.
type ProgressMap map[uint64]*Progress

// String lists one peer per line, in ascending ID order, as "id: progress".
func (m ProgressMap) String() string {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d: %s\n", id, m[id])
	}
	return b.String()
}
