package raft

import (
	"bytes"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/seed901663da/raft/confchange"
	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/raftpb"
)

// stepFunc is the role-specific part of Step.
type stepFunc func(r *raft, m *raftpb.Message) error

// raft is the protocol state machine. It is driven only by Step and tick,
// and its only outputs are r.msgs, r.msgsAfterAppend, r.readStates and the
// unstable part of r.raftLog, which RawNode turns into Ready batches.
type raft struct {
	id uint64

	// Term and Vote are durable (HardState). Invariant: Vote is only set
	// for the current Term (reset clears it when the term changes).
	Term uint64
	Vote uint64

	readStates []ReadState

	raftLog *raftLog

	maxMsgSize         entryEncodingSize
	maxUncommittedSize entryPayloadSize

	trk progress.Tracker

	state StateType

	// msgs are messages that may be sent right away. msgsAfterAppend may
	// only be sent once the unstable log and hard state of the same Ready
	// are durable: votes and append acknowledgements promise something
	// about durable state (Raft paper §5.2, thesis §3.8).
	msgs            []*raftpb.Message
	msgsAfterAppend []*raftpb.Message
	// queuedApps remembers the encoded size of MsgApps in msgs that other
	// entries joined (joinQueuedAppend), so that joining the same message
	// again does not size all its entries again. Entries whose message is
	// no longer in msgs are stale (they never match: a message is never
	// reused); joinEntries clears the list once it is longer than msgs.
	queuedApps []queuedApp
	// msgSlab holds the unused messages of newMessage's current array.
	msgSlab []raftpb.Message
	// msgsSlab holds the unused windows of queueMsg's current array.
	msgsSlab []*raftpb.Message

	// lead is the leader of the current term, or None.
	lead uint64
	// leadTransferee is the target of an ongoing leadership transfer, or
	// None. Only set on the leader.
	leadTransferee uint64
	// pendingConfIndex is the index of the latest conf change the leader
	// appended. A new one is refused until the log is applied past it
	// (thesis §4.1: one change at a time).
	pendingConfIndex uint64
	// uncommittedSize is the payload size of the leader's appended but not
	// yet applied entries; see Config.MaxUncommittedEntriesSize.
	uncommittedSize entryPayloadSize

	readOnly *readOnly

	// electionElapsed counts ticks since the last election timeout reset:
	// on followers and candidates since the last valid leader contact or
	// campaign; on leaders since the last CheckQuorum round.
	electionElapsed int
	// heartbeatElapsed counts ticks since the last heartbeat (leader only).
	heartbeatElapsed int

	// asyncStorageWrites selects the storage contract (Config doc); it
	// decides where acks that wait for durability are queued.
	asyncStorageWrites bool

	checkQuorum                 bool
	preVote                     bool
	disableProposalForwarding   bool
	disableConfChangeValidation bool
	stepDownOnRemoval           bool

	heartbeatTimeout int
	electionTimeout  int
	// randomizedElectionTimeout is in [electionTimeout, 2*electionTimeout)
	// and is drawn again whenever the node changes term or role; one
	// election timeout longer after holding back for a candidate whose
	// term was behind (stepLowerTerm).
	randomizedElectionTimeout int

	tick func()
	step stepFunc

	// pendingReadIndexMessages hold reads that arrived before the leader
	// committed an entry of its own term; until then it does not know the
	// commit index of the cluster (thesis §6.4, step 1).
	pendingReadIndexMessages []*raftpb.Message

	// lastEpoch is the last epoch handed to a Progress; see
	// raftpb.Message.Epoch and assignEpochs.
	lastEpoch uint64

	// Lease-based reads (raft_lease.go). leaseTick counts the leader's
	// ticks; leaseAcks maps each peer to the leaseTick of the latest
	// heartbeat it acknowledged in this term; leaseWaitingReads wait for
	// the lease to be renewed; leaseBroken is set once this leader sent
	// MsgTimeoutNow in this term. startupLease makes a node that just
	// started refuse votes for an election timeout, as if it had just
	// heard from a leader: it may have, before a restart, and a lease may
	// rest on that.
	leaseTick         uint64
	leaseAcks         map[uint64]uint64
	leaseWaitingReads []*raftpb.Message
	leaseBroken       bool
	startupLease      bool

	rand   RandSource
	logger *zap.Logger
}

func newRaft(c *Config) (*raft, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	logger := c.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	logger = logger.With(zap.Uint64("raft_id", c.ID))
	raftlog, err := newLog(c.Storage, logger, entryEncodingSize(orNoLimit(c.MaxCommittedSizePerReady)))
	if err != nil {
		return nil, err
	}
	hs, cs, err := c.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("raft: reading initial state: %w", err)
	}
	rnd := c.Rand
	if rnd == nil {
		rnd = newSplitMix(c.ID)
	}
	r := &raft{
		id:                          c.ID,
		lead:                        None,
		raftLog:                     raftlog,
		maxMsgSize:                  entryEncodingSize(c.MaxSizePerMsg),
		maxUncommittedSize:          entryPayloadSize(orNoLimit(c.MaxUncommittedEntriesSize)),
		trk:                         progress.MakeTracker(c.MaxInflightMsgs, c.MaxInflightBytes),
		electionTimeout:             c.ElectionTick,
		heartbeatTimeout:            c.HeartbeatTick,
		logger:                      logger,
		checkQuorum:                 c.CheckQuorum,
		preVote:                     c.PreVote,
		readOnly:                    newReadOnly(c.ReadOnlyOption),
		disableProposalForwarding:   c.DisableProposalForwarding,
		disableConfChangeValidation: c.DisableConfChangeValidation,
		stepDownOnRemoval:           c.StepDownOnRemoval,
		asyncStorageWrites:          c.AsyncStorageWrites,
		rand:                        rnd,
		// Only a node with a persisted term can have acked a heartbeat.
		startupLease: c.ReadOnlyOption == ReadOnlyLeaseBased && hs.GetTerm() != 0,
	}
	cfg, trk, err := confchange.Restore(confchange.Changer{
		Tracker:   r.trk,
		LastIndex: raftlog.lastIndex(),
	}, cs)
	if err != nil {
		return nil, fmt.Errorf("raft: restoring configuration from storage: %w", err)
	}
	if err := cs.Equivalent(r.switchToConfig(cfg, trk)); err != nil {
		return nil, fmt.Errorf("raft: restored configuration differs from storage: %w", err)
	}
	if !raftpb.IsEmptyHardState(hs) {
		if err := r.loadState(hs); err != nil {
			return nil, err
		}
	}
	if c.Applied > 0 {
		if c.Applied > r.raftLog.committed {
			return nil, fmt.Errorf("%w: Applied (%d) is beyond the persisted commit index (%d)",
				ErrInvalidConfig, c.Applied, r.raftLog.committed)
		}
		if c.Applied > r.raftLog.applied {
			r.raftLog.appliedTo(c.Applied, 0 /* size */)
		}
	}
	r.becomeFollower(r.Term, None)

	r.logger.Info("new raft node",
		zap.Uint64s("voters", r.trk.VoterNodes()),
		zap.Uint64("term", r.Term),
		zap.Uint64("commit", r.raftLog.committed),
		zap.Uint64("applied", r.raftLog.applied),
		zap.Uint64("last_index", r.raftLog.lastIndex()),
		zap.Uint64("last_term", r.raftLog.lastTerm()))
	return r, nil
}

// loadState installs a persisted hard state. A commit index beyond the
// persisted log means the storage is corrupt or was truncated. One below
// the snapshot is fine: with AsyncStorageWrites the apply goroutine may
// apply, snapshot and compact past the commit index the append goroutine
// has persisted so far, and a snapshot only ever holds committed entries.
func (r *raft) loadState(hs *raftpb.HardState) error {
	if hs.Commit > r.raftLog.lastIndex() {
		return fmt.Errorf("raft: persisted commit index %d is beyond the last index %d; was the log corrupted, truncated or lost?",
			hs.Commit, r.raftLog.lastIndex())
	}
	r.raftLog.committed = max(r.raftLog.committed, hs.Commit)
	r.Term = hs.Term
	r.Vote = hs.Vote
	return nil
}

func (r *raft) softState() SoftState { return SoftState{Lead: r.lead, RaftState: r.state} }

func (r *raft) hardState() *raftpb.HardState {
	return &raftpb.HardState{Term: r.Term, Vote: r.Vote, Commit: r.raftLog.committed}
}

// panicf reports a violated internal invariant: a bug in this library or a
// broken Storage contract, never bad input from a peer.
func (r *raft) panicf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.logger.Error("invariant violated", zap.String("what", msg))
	panic("raft: invariant violated: " + msg)
}

// send queues m for the application to deliver. It fills in From and Term.
func (r *raft) send(m *raftpb.Message) {
	if m.From == None {
		m.From = r.id
	}
	switch m.Type {
	case raftpb.MsgVote, raftpb.MsgVoteResp, raftpb.MsgPreVote, raftpb.MsgPreVoteResp:
		// Vote messages name their term explicitly: a pre-vote asks about
		// a term the sender has not entered.
		if m.Term == 0 {
			r.panicf("%s sent without a term", m.Type)
		}
	case raftpb.MsgProp, raftpb.MsgReadIndex:
		// Forwarded to the leader as local requests; the leader handles
		// them regardless of term.
	default:
		if m.Term == 0 {
			m.Term = r.Term
		}
	}
	switch m.Type {
	case raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		// These acknowledge durable state (entries appended, a vote cast),
		// so they wait until this Ready's writes are persisted. For the
		// same reason the leader's own append ack goes through here
		// (thesis §10.2.1: the leader counts itself once its disk is done).
		if !r.asyncStorageWrites && m.To != r.id {
			// Synchronously, every message of a Ready leaves after its
			// writes are durable anyway; only acks to ourselves must wait
			// for Advance.
			r.queueMsg(m)
			return
		}
		r.msgsAfterAppend = append(r.msgsAfterAppend, m)
	default:
		if m.To == r.id {
			r.panicf("%s addressed to self", m.Type)
		}
		r.queueMsg(m)
	}
}

// msgSlabSize is how many messages newMessage allocates at once.
const msgSlabSize = 8

// newMessage returns a zeroed message to fill in and send. The frequent
// messages (appends, their acknowledgements, heartbeats) are carved out of
// arrays of msgSlabSize, one allocation for several messages. Each slot is
// handed out once and never reused, so a message stays valid for as long
// as the application keeps it; the price is that a message kept alive
// keeps its whole array, and what the other messages in it refer to, alive
// too.
func (r *raft) newMessage(to uint64, typ raftpb.MessageType, epoch uint64) *raftpb.Message {
	if len(r.msgSlab) == 0 {
		r.msgSlab = make([]raftpb.Message, msgSlabSize)
	}
	m := &r.msgSlab[0]
	r.msgSlab = r.msgSlab[1:]
	m.To, m.Type, m.Epoch = to, typ, epoch
	return m
}

// msgsWindow is the capacity r.msgs starts with in each Ready, and
// msgsSlabSize how many message pointers queueMsg allocates at once: room
// for the messages of several Readys.
const (
	msgsWindow   = 4
	msgsSlabSize = 8 * msgsWindow
)

// queueMsg appends to r.msgs. The slice goes to the application with each
// Ready, so it starts afresh every time, in the next unused window of
// msgsWindow slots of a shared array (one allocation for several Readys;
// a window is never handed out twice). A Ready with more messages grows
// its slice out of the window into an array of its own, as append does.
// The price of sharing: the array, and so the messages of the Readys it
// served, stays alive while any of its windows is referenced.
func (r *raft) queueMsg(m *raftpb.Message) {
	if r.msgs == nil {
		if len(r.msgsSlab) < msgsWindow {
			r.msgsSlab = make([]*raftpb.Message, msgsSlabSize)
		}
		r.msgs = r.msgsSlab[:0:msgsWindow]
		r.msgsSlab = r.msgsSlab[msgsWindow:]
	}
	r.msgs = append(r.msgs, m)
}

// reset prepares the node for a new term or role.
func (r *raft) reset(term uint64) {
	if r.Term != term {
		r.Term = term
		r.Vote = None
	}
	r.lead = None
	r.electionElapsed = 0
	r.heartbeatElapsed = 0
	r.resetRandomizedElectionTimeout()
	r.abortLeaderTransfer()
	r.trk.ResetVotes()
	last := r.raftLog.lastIndex()
	r.trk.Visit(func(id uint64, pr *progress.Progress) {
		infl := pr.Inflights
		infl.Reset()
		*pr = progress.Progress{
			Match:     0,
			Next:      last + 1,
			Inflights: infl,
			IsLearner: pr.IsLearner,
			Epoch:     pr.Epoch,
		}
		if id == r.id {
			pr.Match = last
		}
	})
	r.pendingConfIndex = 0
	r.uncommittedSize = 0
	r.readOnly = newReadOnly(r.readOnly.option)
	r.leaseAcks = nil
	r.leaseWaitingReads = nil
	r.leaseBroken = false
}

func (r *raft) resetRandomizedElectionTimeout() {
	r.randomizedElectionTimeout = r.electionTimeout + intn(r.rand, r.electionTimeout)
}

func (r *raft) pastElectionTimeout() bool {
	return r.electionElapsed >= r.randomizedElectionTimeout
}

// promotable reports whether this node may campaign: it must be a voter,
// and must not hold a snapshot it has not yet persisted (its log would not
// reflect what it votes with).
func (r *raft) promotable() bool {
	pr := r.trk.Progress[r.id]
	return pr != nil && !pr.IsLearner && !r.raftLog.hasNextOrInProgressSnapshot()
}

func (r *raft) becomeFollower(term, lead uint64) {
	r.step = stepFollower
	r.reset(term)
	r.tick = r.tickElection
	r.lead = lead
	r.state = StateFollower
	r.logger.Info("became follower", zap.Uint64("term", r.Term), zap.Uint64("lead", lead))
}

func (r *raft) becomeCandidate() {
	if r.state == StateLeader {
		r.panicf("transition from leader to candidate")
	}
	r.step = stepCandidate
	r.reset(r.Term + 1)
	r.tick = r.tickElection
	r.Vote = r.id
	r.state = StateCandidate
	r.logger.Info("became candidate", zap.Uint64("term", r.Term))
}

func (r *raft) becomePreCandidate() {
	if r.state == StateLeader {
		r.panicf("transition from leader to pre-candidate")
	}
	// A pre-candidate changes neither term nor vote: it only asks whether
	// it could win (thesis §9.6).
	r.step = stepCandidate
	r.trk.ResetVotes()
	r.tick = r.tickElection
	r.lead = None
	r.state = StatePreCandidate
	r.logger.Info("became pre-candidate", zap.Uint64("term", r.Term))
}

func (r *raft) becomeLeader() {
	if r.state == StateFollower {
		r.panicf("transition from follower to leader")
	}
	r.step = stepLeader
	r.reset(r.Term)
	r.tick = r.tickHeartbeat
	r.lead = r.id
	r.state = StateLeader
	// The leader knows its own log; replicate optimistically to itself.
	pr := r.trk.Progress[r.id]
	pr.BecomeReplicate()
	pr.RecentActive = true
	// Conservatively treat every entry the log holds as a possibly
	// pending conf change: they are not known to be applied yet.
	r.pendingConfIndex = r.raftLog.lastIndex()
	// An empty entry of the new term lets the leader commit entries from
	// earlier terms (paper §5.4.2) and learn the commit index (§8).
	if !r.appendEntry(&raftpb.Entry{}) {
		r.panicf("empty entry was refused by the uncommitted size limit")
	}
	r.logger.Info("became leader", zap.Uint64("term", r.Term))
}

// Step is the single entry point for messages. It works in three layers:
// the term check, then messages every role handles alike, then the role's
// own step function.
func (r *raft) Step(m *raftpb.Message) error {
	if done, err := r.stepTerm(m); done {
		return err
	}
	switch m.Type {
	case raftpb.MsgHup:
		if r.preVote {
			r.hup(campaignPreElection)
		} else {
			r.hup(campaignElection)
		}
	case raftpb.MsgVote, raftpb.MsgPreVote:
		r.handleVoteRequest(m)
	case raftpb.MsgStorageAppendResp:
		r.handleStorageAppendResp(m)
	case raftpb.MsgStorageApplyResp:
		r.handleStorageApplyResp(m)
	default:
		return r.step(r, m)
	}
	return nil
}

// stepTerm compares m's term with ours. It steps down on a higher term
// (paper §5.1), answers or drops a lower one, and reports done when m needs
// no further handling.
func (r *raft) stepTerm(m *raftpb.Message) (done bool, _ error) {
	switch {
	case m.Term == 0:
		// Local message, or a forwarded proposal or read.
		return false, nil
	case m.Term > r.Term:
		if m.Type == raftpb.MsgVote || m.Type == raftpb.MsgPreVote {
			force := bytes.Equal(m.Context, campaignTransferCtx)
			inLease := r.checkQuorum && (r.lead != None || (r.startupLease && !mutNoStartupLease())) && r.electionElapsed < r.electionTimeout
			if !force && inLease {
				// We heard from a leader within the minimum election
				// timeout: the candidate is most likely partitioned or
				// disruptive (thesis §4.2.3). Neither update the term
				// nor vote.
				r.logger.Info("ignoring vote request within leader lease",
					zap.Stringer("type", m.Type), zap.Uint64("from", m.From),
					zap.Uint64("msg_term", m.Term), zap.Uint64("term", r.Term),
					zap.Uint64("lead", r.lead))
				return true, nil
			}
		}
		switch {
		case m.Type == raftpb.MsgPreVote:
			// A pre-vote never changes our term.
		case m.Type == raftpb.MsgPreVoteResp && !m.Reject:
			// A granted pre-vote at a future term: our term moves once
			// the pre-election is won.
		default:
			r.logger.Info("received message with higher term",
				zap.Stringer("type", m.Type), zap.Uint64("from", m.From),
				zap.Uint64("msg_term", m.Term), zap.Uint64("term", r.Term))
			if m.Type == raftpb.MsgApp || m.Type == raftpb.MsgHeartbeat || m.Type == raftpb.MsgSnap {
				r.becomeFollower(m.Term, m.From)
			} else if m.Type == raftpb.MsgVote && !mutRejectedVoteResetsClock() {
				// Only granting the vote restarts the election timer
				// (paper §5.2, Figure 2; handleVoteRequest does it). A
				// candidate whose log is behind would otherwise keep
				// resetting the timers of the nodes it cannot win over,
				// and one of those, with a better log, might never time
				// out first (found by rafttest/sim).
				elapsed := r.electionElapsed
				r.becomeFollower(m.Term, None)
				r.electionElapsed = elapsed
			} else {
				r.becomeFollower(m.Term, None)
			}
		}
		return false, nil
	case m.Term < r.Term:
		r.stepLowerTerm(m)
		return true, nil
	}
	return false, nil
}

func (r *raft) stepLowerTerm(m *raftpb.Message) {
	switch {
	case (m.Type == raftpb.MsgHeartbeat || m.Type == raftpb.MsgApp) &&
		(r.checkQuorum || r.preVote || !mutStaleLeaderNotTold()):
		// A stale leader, probably cut off and now back: tell it our term
		// with a response, as the paper's AppendEntries reply does (§5.1).
		// Waiting for it to hear one of our vote requests is not enough:
		// with CheckQuorum or PreVote we might not advance our term or
		// send one (thesis §9.6), and we send none at all if we cannot
		// campaign (a learner that has not applied its promotion) or our
		// configuration has not caught up with the one that made it a
		// voter (found by rafttest/sim: a stale leader, which only
		// CheckQuorum would depose, kept sending heartbeats for ever).
		r.send(&raftpb.Message{To: m.From, Type: raftpb.MsgAppResp, Epoch: m.Epoch})
	case m.Type == raftpb.MsgPreVote:
		// Reject so that a node stuck in an old term learns ours.
		r.send(&raftpb.Message{To: m.From, Term: r.Term, Type: raftpb.MsgPreVoteResp, Reject: true, Epoch: m.Epoch})
	case m.Type == raftpb.MsgVote && !mutIgnoreLowerTermVote():
		// The same for a real election (the paper's RequestVote always
		// answers with the current term, §5.1). Ignoring it can livelock:
		// a candidate we never otherwise talk to (it is not a voter in the
		// configuration we have applied) would go on asking in terms we
		// have left behind, while we campaign in terms it never hears of.
		r.send(&raftpb.Message{To: m.From, Term: r.Term, Type: raftpb.MsgVoteResp, Reject: true, Epoch: m.Epoch})
		if r.lead == None && r.raftLog.isUpToDate(m.Index, m.LogTerm) && !mutNoHoldBackForCandidate() {
			// We would grant this vote in a current term, and the
			// candidate learns ours from the rejection: hold back for an
			// extra election timeout so that it can ask again, above our
			// term, before we campaign. Otherwise a node whose log is
			// behind and whose clock runs faster can keep its term ahead
			// of the one candidate that can win and only learns of it this
			// way (found by rafttest/sim: that candidate needed the stale
			// node's vote, and the stale node, in an older configuration,
			// never asked it for one).
			r.electionElapsed = 0
			r.resetRandomizedElectionTimeout()
			r.randomizedElectionTimeout += r.electionTimeout
		}
	case m.Type == raftpb.MsgStorageAppendResp:
		// The entries of an older term's write may since have been
		// replaced in the unstable log, so they are not marked stable
		// (see handleStorageAppendResp); a snapshot is unaffected.
		if m.Snapshot != nil {
			r.storageSnapAck(m.Snapshot)
		}
	default:
		r.logger.Debug("ignored message with lower term",
			zap.Stringer("type", m.Type), zap.Uint64("from", m.From),
			zap.Uint64("msg_term", m.Term), zap.Uint64("term", r.Term))
	}
}

func (r *raft) handleStorageAppendResp(m *raftpb.Message) {
	if m.Index != 0 {
		r.raftLog.stableTo(m.Index, m.LogTerm)
	}
	if m.Snapshot != nil {
		r.storageSnapAck(m.Snapshot)
	}
}

// Storage acks are the application's word, but they arrive through Step
// like peer messages, so one that names what the node never handed out (a
// forged or corrupted message) is ignored rather than trusted into
// breaking applied <= committed.

// storageSnapAck handles the ack that a snapshot is durable. A genuine one
// is never beyond the commit index, which restoring it moved there.
func (r *raft) storageSnapAck(snap *raftpb.Snapshot) {
	if i := snap.GetMetadata().GetIndex(); i > r.raftLog.committed {
		r.logger.Warn("ignored storage ack of a snapshot beyond the commit index",
			zap.Uint64("snap_index", i), zap.Uint64("commit", r.raftLog.committed))
		return
	}
	r.appliedSnap(snap)
}

func (r *raft) handleStorageApplyResp(m *raftpb.Message) {
	if len(m.Entries) == 0 {
		return
	}
	last := m.Entries[len(m.Entries)-1].GetIndex()
	if last > r.raftLog.applying || slices.Contains(m.Entries, nil) {
		r.logger.Warn("ignored storage apply ack of entries never handed out",
			zap.Uint64("index", last), zap.Uint64("applying", r.raftLog.applying))
		return
	}
	r.appliedTo(last, entsSize(m.Entries))
	r.reduceUncommittedSize(payloadsSize(m.Entries))
}

func (r *raft) appliedTo(index uint64, size entryEncodingSize) {
	oldApplied := r.raftLog.applied
	newApplied := max(index, oldApplied)
	r.raftLog.appliedTo(newApplied, size)

	// A joint configuration in force that asked to be left by itself:
	// propose the empty ConfChangeV2 that leaves it.
	r.maybeAutoLeave()
}

func (r *raft) appliedSnap(snap *raftpb.Snapshot) {
	index := snap.GetMetadata().GetIndex()
	r.raftLog.stableSnapTo(index)
	r.appliedTo(index, 0 /* size */)
}

// tickElection is the tick of followers and candidates.
func (r *raft) tickElection() {
	r.electionElapsed++
	if r.electionElapsed >= r.electionTimeout {
		r.startupLease = false
	}
	if r.promotable() && r.pastElectionTimeout() {
		r.electionElapsed = 0
		if err := r.Step(&raftpb.Message{From: r.id, Type: raftpb.MsgHup}); err != nil {
			r.logger.Debug("error occurred during election", zap.Error(err))
		}
	}
}

// tickHeartbeat is the tick of the leader.
func (r *raft) tickHeartbeat() {
	r.heartbeatElapsed++
	r.electionElapsed++
	r.leaseTick++

	if r.electionElapsed >= r.electionTimeout {
		r.electionElapsed = 0
		if r.checkQuorum {
			if err := r.Step(&raftpb.Message{From: r.id, Type: raftpb.MsgCheckQuorum}); err != nil {
				r.logger.Debug("error occurred during checking sending heartbeat", zap.Error(err))
			}
		}
		// A transfer that has not finished within an election timeout
		// has failed; accept proposals again.
		if r.state == StateLeader && r.leadTransferee != None {
			r.abortLeaderTransfer()
			// Proposals were refused during the transfer, an automatic
			// leave of a joint configuration included.
			r.maybeAutoLeave()
			if r.stepDownOnRemoval && !r.isVoter() {
				r.handOffLeadership() // try again
			}
		}
	}
	if r.state != StateLeader {
		return
	}
	if r.heartbeatElapsed >= r.heartbeatTimeout {
		r.heartbeatElapsed = 0
		if err := r.Step(&raftpb.Message{From: r.id, Type: raftpb.MsgBeat}); err != nil {
			r.logger.Debug("error occurred during checking sending heartbeat", zap.Error(err))
		}
	}
}
