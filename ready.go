package raft

import (
	"github.com/seed901663da/raft/raftpb"
)

// Ready is a batch of work for the application: state to persist, a
// snapshot to install, messages to send and entries to apply. The fields
// are only valid until the next call to Ready (or, with the synchronous
// contract, until Advance). The application must not modify the entries
// and messages: they may be shared with the node's log.
type Ready struct {
	// SoftState is non-nil when the leader or role changed. It need not
	// be persisted.
	*SoftState

	// HardState is non-nil when term, vote or commit changed. Persist it
	// before sending Messages. In synchronous mode its Commit may cover
	// entries of this same Ready's Entries (see CommittedEntries): write
	// it together with them or after them, never before.
	HardState *raftpb.HardState

	// ReadStates answer ReadIndex requests; see ReadState.
	ReadStates []ReadState

	// Entries are to be appended to stable storage before Messages are
	// sent. An entry overwrites any stored entry at the same index and
	// truncates the stored log after the last one.
	Entries []*raftpb.Entry

	// Snapshot, if non-nil, is to be saved to stable storage (and the
	// state machine restored from it) before Entries.
	Snapshot *raftpb.Snapshot

	// CommittedEntries are to be applied to the state machine, in order.
	// In synchronous mode they may include entries of this same Ready's
	// Entries: persist first, then apply. A follower may learn that its
	// new entries are committed along with them, and a leader alone in
	// its configuration (no other voter, no learner) commits its own
	// entries in the Ready that hands them out, which saves it a round of
	// Ready and Advance per proposal.
	CommittedEntries []*raftpb.Entry

	// Messages are to be sent after Entries, HardState and Snapshot are
	// durable. A MsgSnap's snapshot payload is the application's to fill
	// or stream; report the outcome with ReportSnapshot. With
	// AsyncStorageWrites the storage work travels here too, as
	// MsgStorageAppend and MsgStorageApply to the local threads.
	Messages []*raftpb.Message

	// MustSync says whether HardState, Entries and Snapshot must be synced
	// to disk (fsync) before Messages are sent, or may be written without
	// sync: it is false when only the commit index changed, which can be
	// recovered from peers. A Snapshot always needs a sync: the follower
	// acknowledges it to the leader, which from then on never sends the
	// entries it replaced.
	MustSync bool
}

// IsEmpty reports whether rd carries no work.
func (rd *Ready) IsEmpty() bool {
	return rd.SoftState == nil && rd.HardState == nil && rd.Snapshot == nil &&
		len(rd.Entries) == 0 && len(rd.CommittedEntries) == 0 && len(rd.Messages) == 0 &&
		len(rd.ReadStates) == 0
}

func (r *raft) hardStateValue() hardStateValue {
	return hardStateValue{term: r.Term, vote: r.Vote, commit: r.raftLog.committed}
}

// MustSync reports whether a Ready with this hard state change and this
// many entries must be synced to disk: term, vote and log entries must be
// durable before anything that depends on them is sent (paper §5.1,
// Figure 2 "persistent state"); the commit index need not be.
func MustSync(st, prev *raftpb.HardState, entsnum int) bool {
	return entsnum != 0 || st.GetVote() != prev.GetVote() || st.GetTerm() != prev.GetTerm()
}

func mustSyncValue(st, prev hardStateValue, entsnum int) bool {
	return entsnum != 0 || st.vote != prev.vote || st.term != prev.term
}

// loneCommit returns the commit index that the next Ready of a leader
// alone in its configuration reports in synchronous storage mode, or 0 if
// that Ready commits nothing of its own.
//
// Such a leader is its own quorum, so its entries are committed once they
// are durable, and the synchronous contract makes the Ready that hands
// them out durable before anything of it takes effect: its hard state is
// written with its entries, its committed entries are applied after the
// write, and (having no peers) it sends no message that could carry the
// commit index. So the Ready commits its own entries and saves a round of
// Ready and Advance per proposal; acceptReady does the committing. Every
// earlier entry is durable already: a Ready is only taken after the
// previous one was advanced. Later messages that carry the commit index
// (say, after a conf change adds a peer) belong to later Readys, which
// come after this one's Advance.
//
// With AsyncStorageWrites, or with any peer (even a learner, which may be
// sent the leader's MsgApp before the leader's own write is done; see the
// package documentation), the leader counts its own entries only once its
// write is acknowledged, as any other.
func (rn *RawNode) loneCommit() uint64 {
	r := rn.raft
	// Only unstable entries are considered: entries that are durable but
	// uncommitted (written while the leader had peers) commit through
	// the leader's acknowledgement at Advance, as before. The check runs
	// on every HasReady, so it avoids Storage calls.
	ents := r.raftLog.unstable.entries
	if rn.asyncStorageWrites || r.state != StateLeader || len(ents) == 0 {
		return 0
	}
	if len(r.trk.Progress) != 1 || r.trk.Progress[r.id] == nil || !r.trk.IsSingleton() {
		return 0
	}
	last := ents[len(ents)-1]
	if last.Index <= r.raftLog.committed || last.Term != r.Term {
		// Only entries of the leader's term commit by counting (paper
		// §5.4.2); a leader always has one, its empty entry.
		return 0
	}
	return last.Index
}

// readyHardState returns the hard state the next Ready reports. Its
// commit index is the one the Ready's committed entries go up to: that of
// loneCommit if there is one, else the log's. acceptReady commits a lone
// leader's entries up to it.
func (rn *RawNode) readyHardState() hardStateValue {
	hs := rn.raft.hardStateValue()
	if c := rn.loneCommit(); c != 0 {
		hs.commit = c
	}
	return hs
}

func (rn *RawNode) readyWithoutAccept() Ready {
	r := rn.raft
	hs := rn.readyHardState()
	rd := Ready{
		Entries:          r.raftLog.nextUnstableEnts(),
		CommittedEntries: r.raftLog.nextCommittedEnts(hs.commit, rn.applyUnstableEntries()),
		Messages:         r.msgs,
	}
	if ss := r.softState(); ss != rn.prevSoftSt {
		// Copy into a fresh variable: taking &ss would move ss to the
		// heap on every call, changed or not.
		changed := ss
		rd.SoftState = &changed
	}
	if hs != rn.prevHardSt {
		rd.HardState = rn.newHardState(hs)
	}
	if r.raftLog.hasNextUnstableSnapshot() {
		rd.Snapshot = r.raftLog.nextUnstableSnapshot()
	}
	if len(r.readStates) != 0 {
		rd.ReadStates = r.readStates
	}
	rd.MustSync = rd.Snapshot != nil || mustSyncValue(hs, rn.prevHardSt, len(rd.Entries))

	if rn.asyncStorageWrites {
		if needStorageAppendMsg(r, &rd) {
			rd.Messages = append(rd.Messages, newStorageAppendMsg(r, &rd))
		}
		if needStorageApplyMsg(&rd) {
			rd.Messages = append(rd.Messages, newStorageApplyMsg(r, &rd))
		}
	} else {
		// In synchronous mode the whole Ready is durable before Messages
		// go out, so messages that wait for durability go out with it;
		// only the ones to ourselves wait for Advance (acceptReady).
		for _, m := range r.msgsAfterAppend {
			if m.To != r.id {
				rd.Messages = append(rd.Messages, m)
			}
		}
	}
	return rd
}

// hardStateSlab is how many Ready.HardState values newHardState allocates
// at once.
const hardStateSlab = 8

// newHardState returns hs as a *raftpb.HardState for a Ready, carved from
// an array of hardStateSlab: one allocation serves several Readys. A slot
// is handed out once and never reused, so the application may keep the
// pointer as long as it likes (the array lives as long as any of them).
func (rn *RawNode) newHardState(hs hardStateValue) *raftpb.HardState {
	if len(rn.hardStates) == 0 {
		rn.hardStates = make([]raftpb.HardState, hardStateSlab)
	}
	p := &rn.hardStates[0]
	rn.hardStates = rn.hardStates[1:]
	p.Term, p.Vote, p.Commit = hs.term, hs.vote, hs.commit
	return p
}

// acceptReady records that rd was handed to the application. rd must be
// what readyWithoutAccept returned with the node unchanged since.
func (rn *RawNode) acceptReady(rd Ready) {
	r := rn.raft
	if rd.SoftState != nil {
		rn.prevSoftSt = *rd.SoftState
	}
	if rd.HardState != nil {
		rn.prevHardSt = hardStateValueOf(rd.HardState)
	}
	if len(rd.ReadStates) != 0 {
		r.readStates = nil
	}
	if !rn.asyncStorageWrites {
		if len(rn.stepsOnAdvance) != 0 || rn.onAdvance != (advanceAcks{}) {
			r.panicf("Ready called twice without Advance")
		}
		for _, m := range r.msgsAfterAppend {
			if m.To == r.id {
				rn.stepsOnAdvance = append(rn.stepsOnAdvance, m)
			}
		}
		// The acks of this Ready's writes and applies, carried out by
		// Advance. They are what MsgStorageAppendResp and
		// MsgStorageApplyResp carry in async mode, kept as plain values
		// so that the synchronous loop allocates no messages for them.
		rn.onAdvance = advanceAcks{term: r.Term}
		if needStorageAppendRespMsg(r, &rd) {
			if r.raftLog.hasNextOrInProgressUnstableEnts() {
				rn.onAdvance.stableIndex, rn.onAdvance.stableTerm = r.raftLog.lastEntryID()
			}
			rn.onAdvance.snapshot = rd.Snapshot
		}
		if n := len(rd.CommittedEntries); n > 0 {
			rn.onAdvance.appliedIndex = rd.CommittedEntries[n-1].Index
			rn.onAdvance.appliedSize = entsSize(rd.CommittedEntries)
			rn.onAdvance.appliedPayload = payloadsSize(rd.CommittedEntries)
		}
	}
	r.msgs = nil
	if rn.asyncStorageWrites {
		// The Ready's MsgStorageAppend holds this slice as Responses.
		r.msgsAfterAppend = nil
	} else {
		// Its messages moved to stepsOnAdvance; reuse the array.
		clear(r.msgsAfterAppend)
		r.msgsAfterAppend = r.msgsAfterAppend[:0]
	}
	r.raftLog.acceptUnstable()
	if rd.HardState != nil && rd.HardState.Commit > r.raftLog.committed {
		// Only a Ready of loneCommit reports a commit index beyond the
		// log's (readyHardState). Committed after clearing msgs and
		// readStates: what committing produces (reads that waited for
		// it) belongs to the next Ready.
		r.commitOwnEntries(rd.HardState.Commit)
	}
	if n := len(rd.CommittedEntries); n > 0 {
		index := rd.CommittedEntries[n-1].Index
		r.raftLog.acceptApplying(index, entsSize(rd.CommittedEntries), rn.applyUnstableEntries())
	}
}

func needStorageAppendMsg(r *raft, rd *Ready) bool {
	// Also needed when only messages wait for durability: they ride in
	// the append's Responses so that they go out after any earlier write.
	return r.raftLog.hasNextOrInProgressUnstableEnts() ||
		rd.HardState != nil || rd.Snapshot != nil || len(r.msgsAfterAppend) > 0
}

func needStorageAppendRespMsg(r *raft, rd *Ready) bool {
	return r.raftLog.hasNextOrInProgressUnstableEnts() || rd.Snapshot != nil
}

// newStorageAppendMsg builds the write request for the local append
// thread: entries, hard state and snapshot to persist, and the messages to
// deliver once they are durable.
func newStorageAppendMsg(r *raft, rd *Ready) *raftpb.Message {
	m := &raftpb.Message{
		Type:    raftpb.MsgStorageAppend,
		To:      LocalAppendThread,
		From:    r.id,
		Entries: rd.Entries,
	}
	if rd.HardState != nil {
		// Term, Vote and Commit of the message carry the hard state. A
		// zero Term means "no hard state change" (Term 0 is never
		// persisted once a node has started).
		m.Term = rd.HardState.Term
		m.Vote = rd.HardState.Vote
		m.Commit = rd.HardState.Commit
	}
	if rd.Snapshot != nil {
		m.Snapshot = rd.Snapshot
	}
	m.Responses = r.msgsAfterAppend
	if needStorageAppendRespMsg(r, rd) {
		m.Responses = append(m.Responses, newStorageAppendRespMsg(r, rd))
	}
	return m
}

// newStorageAppendRespMsg builds the ack the append thread returns once a
// write is durable. It names the last entry written by (index, term): the
// unstable log only treats entries as stable if that entry is still there,
// since a newer leader may have replaced it meanwhile. The message's Term
// is the node's term at the time of the write; an ack from an older term
// does not mark entries stable at all, because an entry overwritten and
// rewritten in between could otherwise be mistaken for the written one.
func newStorageAppendRespMsg(r *raft, rd *Ready) *raftpb.Message {
	m := &raftpb.Message{
		Type: raftpb.MsgStorageAppendResp,
		To:   r.id,
		From: LocalAppendThread,
		Term: r.Term,
	}
	if r.raftLog.hasNextOrInProgressUnstableEnts() {
		m.Index, m.LogTerm = r.raftLog.lastEntryID()
	}
	if rd.Snapshot != nil {
		m.Snapshot = rd.Snapshot
	}
	return m
}

func needStorageApplyMsg(rd *Ready) bool { return len(rd.CommittedEntries) > 0 }

// newStorageApplyMsg builds the request for the local apply thread.
func newStorageApplyMsg(r *raft, rd *Ready) *raftpb.Message {
	ents := rd.CommittedEntries
	return &raftpb.Message{
		Type:      raftpb.MsgStorageApply,
		To:        LocalApplyThread,
		From:      r.id,
		Term:      0, // not tied to a term: applying committed entries is always valid
		Entries:   ents,
		Responses: []*raftpb.Message{newStorageApplyRespMsg(r, ents)},
	}
}

func newStorageApplyRespMsg(r *raft, ents []*raftpb.Entry) *raftpb.Message {
	return &raftpb.Message{
		Type:    raftpb.MsgStorageApplyResp,
		To:      r.id,
		From:    LocalApplyThread,
		Term:    0,
		Entries: ents,
	}
}
