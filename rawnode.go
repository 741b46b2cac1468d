package raft

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// RawNode is the synchronous API over the raft state machine. It is not
// safe for concurrent use: the caller runs it from one goroutine (Node does
// that for you). See the package documentation for the loop that drives it.
type RawNode struct {
	raft               *raft
	asyncStorageWrites bool

	// prevSoftSt and prevHardSt are what the last accepted Ready told the
	// application, so the next one only carries changes.
	prevSoftSt SoftState
	prevHardSt hardStateValue
	// stepsOnAdvance are local messages to step once the application
	// calls Advance (synchronous storage mode only): the acks that the
	// entries and hard state of the last Ready are durable and applied.
	stepsOnAdvance []*raftpb.Message
	// onAdvance is what the last Ready's writes and applies acknowledge
	// once Advance is called (synchronous storage mode only).
	onAdvance advanceAcks
	// hardStates holds the unused slots of newHardState's current array.
	hardStates []raftpb.HardState
}

// advanceAcks is the synchronous-mode form of the storage append and
// apply responses.
type advanceAcks struct {
	// term is the node's term when the Ready was taken. Entries written
	// under an older term may since have been replaced in the unstable
	// log, so they are only marked stable if the term is unchanged (see
	// newStorageAppendRespMsg).
	term                    uint64
	stableIndex, stableTerm uint64
	snapshot                *raftpb.Snapshot
	appliedIndex            uint64
	appliedSize             entryEncodingSize
	appliedPayload          entryPayloadSize
}

// hardStateValue is a comparable copy of a HardState (proto messages must
// not be copied by value).
type hardStateValue struct{ term, vote, commit uint64 }

func hardStateValueOf(hs *raftpb.HardState) hardStateValue {
	return hardStateValue{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
}

// NewRawNode creates a RawNode from a Config. It returns an error wrapping
// ErrInvalidConfig for an invalid Config, and an error for a Storage whose
// contents are inconsistent. A fresh node with empty storage has no
// configuration; call Bootstrap, or apply a snapshot to the storage first.
func NewRawNode(config *Config) (*RawNode, error) {
	r, err := newRaft(config)
	if err != nil {
		return nil, err
	}
	rn := &RawNode{raft: r, asyncStorageWrites: config.AsyncStorageWrites}
	rn.prevSoftSt = r.softState()
	rn.prevHardSt = hardStateValueOf(r.hardState())
	return rn, nil
}

// Bootstrap initializes a RawNode with empty storage for a first start
// with the given peers. It appends one ConfChangeAddNode entry per peer,
// committed at term 1, and applies them to the configuration; the entries
// still appear in the next Ready for the application to persist and apply
// as usual (applying them again is harmless). It returns
// ErrBootstrapNonEmpty if the storage holds a log.
func (rn *RawNode) Bootstrap(peers []Peer) error {
	if len(peers) == 0 {
		return errors.New("raft: Bootstrap needs at least one peer")
	}
	lastIndex, err := rn.raft.raftLog.storage.LastIndex()
	if err != nil {
		return err
	}
	if lastIndex != 0 {
		return ErrBootstrapNonEmpty
	}
	// Report the bootstrap hard state in the next Ready.
	rn.prevHardSt = hardStateValue{}
	rn.raft.becomeFollower(1, None)
	ents := make([]*raftpb.Entry, len(peers))
	for i, peer := range peers {
		if peer.ID == None {
			return errors.New("raft: Bootstrap peer with ID 0")
		}
		data, err := proto.Marshal(&raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: peer.ID, Context: peer.Context})
		if err != nil {
			return err
		}
		ents[i] = &raftpb.Entry{Type: raftpb.EntryConfChange, Term: 1, Index: uint64(i + 1), Data: data}
	}
	rn.raft.raftLog.append(ents...)
	// The entries are committed by definition: every peer bootstraps with
	// the same ones. Applying them here, not just through the log, lets
	// the node campaign before the application has applied anything.
	rn.raft.raftLog.committed = uint64(len(ents))
	for _, peer := range peers {
		cc := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeId: peer.ID}
		if _, err := rn.raft.applyConfChange(cc.AsV2()); err != nil {
			return fmt.Errorf("raft: bootstrapping peer %d: %w", peer.ID, err)
		}
	}
	return nil
}

// Tick advances the node's logical clock by one tick. Election and
// heartbeat timeouts are counted in ticks.
func (rn *RawNode) Tick() {
	rn.raft.tick()
}

// TickQuiesced advances the clock of a leader without sending heartbeats
// or checking the quorum. Use it only while the application knows the
// group is idle and will wake it on activity.
func (rn *RawNode) TickQuiesced() {
	rn.raft.electionElapsed++
}

// Campaign makes this node start an election (a pre-election with
// PreVote). It has no effect on the leader or on a node that may not
// campaign.
func (rn *RawNode) Campaign() error {
	return rn.raft.Step(&raftpb.Message{Type: raftpb.MsgHup})
}

// Propose proposes data to be appended to the log. It returns
// ErrProposalDropped when the proposal cannot be accepted now. Success
// does not mean it will commit: watch the committed entries.
func (rn *RawNode) Propose(data []byte) error {
	return rn.raft.Step(newProposal(rn.raft.id, data))
}

// proposal packs a one-entry MsgProp into a single allocation: the
// message, its entries slice and the entry. The entry outlives the message
// in the log, which keeps the small rest alive with it; that costs less
// than two more allocations on every proposal.
type proposal struct {
	msg   raftpb.Message
	ents  [1]*raftpb.Entry
	entry raftpb.Entry
}

func newProposal(from uint64, data []byte) *raftpb.Message {
	p := &proposal{}
	p.entry.Data = data
	p.ents[0] = &p.entry
	p.msg.Type = raftpb.MsgProp
	p.msg.From = from
	p.msg.Entries = p.ents[:]
	return &p.msg
}

// ProposeConfChange proposes a membership change, v1 (*raftpb.ConfChange)
// or v2 (*raftpb.ConfChangeV2). The leader replaces it with an empty entry
// if another change is still unapplied or it does not fit the joint state
// (unless Config.DisableConfChangeValidation).
func (rn *RawNode) ProposeConfChange(cc raftpb.ConfChangeI) error {
	m, err := confChangeToMsg(cc)
	if err != nil {
		return err
	}
	return rn.raft.Step(m)
}

func confChangeToMsg(cc raftpb.ConfChangeI) (*raftpb.Message, error) {
	typ, data, err := raftpb.MarshalConfChange(cc)
	if err != nil {
		return nil, err
	}
	return &raftpb.Message{Type: raftpb.MsgProp, Entries: []*raftpb.Entry{{Type: typ, Data: data}}}, nil
}

// ApplyConfChange applies a committed conf change to the node and returns
// the resulting configuration. Call it for every committed conf change
// entry, in log order, when applying it. An invalid change (only possible
// with DisableConfChangeValidation) returns an error and changes nothing.
func (rn *RawNode) ApplyConfChange(cc raftpb.ConfChangeI) (*raftpb.ConfState, error) {
	return rn.raft.applyConfChange(cc.AsV2())
}

// Step hands the node a message from a peer (or, with AsyncStorageWrites,
// a response from a local storage thread). It returns ErrStepLocalMsg for
// message types only the node itself may create, ErrStepPeerNotFound for a
// response from a node not in the configuration, ErrUnknownMessageType and
// ErrMalformedMessage for messages it cannot interpret, that are addressed
// to another node, or whose sender or term is missing or whose sender
// claims to be this node. Inconsistent messages (a bad index, a commit
// index beyond what the sender could know) are ignored and logged, never
// applied.
func (rn *RawNode) Step(m *raftpb.Message) error {
	if m == nil {
		return ErrMalformedMessage
	}
	if m.To != None && m.To != rn.raft.id {
		// Misrouted: acting on it would answer for another node.
		return fmt.Errorf("%w: addressed to %d, this is %d", ErrMalformedMessage, m.To, rn.raft.id)
	}
	if !m.Type.IsKnown() {
		return fmt.Errorf("%w: %d", ErrUnknownMessageType, int32(m.Type))
	}
	if m.Type.IsLocal() && !m.Type.IsLocalStorage() {
		return ErrStepLocalMsg
	}
	if m.Type.IsLocalStorage() && !rn.asyncStorageWrites {
		return ErrStepLocalMsg
	}
	if !m.Type.IsLocalStorage() {
		// Answers go to From: a peer message must name a sender, and
		// not this node, or the answer would be misrouted (or addressed
		// to ourselves, which send refuses). It must carry a term too:
		// the state machine takes term 0 for a local message, which
		// skips the term check (paper §5.1). Proposals and reads may be
		// local requests, and travel without a term when forwarded;
		// acks of our own writes come from us in AsyncStorageWrites
		// mode.
		localRequest := m.Type == raftpb.MsgProp || m.Type == raftpb.MsgReadIndex
		switch {
		case m.From == None && !localRequest:
			return fmt.Errorf("%w: %s without a sender", ErrMalformedMessage, m.Type)
		case m.Term == 0 && !localRequest:
			return fmt.Errorf("%w: %s without a term", ErrMalformedMessage, m.Type)
		case m.From == rn.raft.id && !stepFromSelfOK(m):
			return fmt.Errorf("%w: %s claims to come from this node", ErrMalformedMessage, m.Type)
		}
	}
	if m.Type.IsResponse() && !m.Type.IsLocalStorage() && rn.raft.trk.Progress[m.From] == nil {
		return ErrStepPeerNotFound
	}
	return rn.raft.Step(m)
}

// stepFromSelfOK reports whether m may be stepped with this node as its
// sender: local requests, and the acknowledgements of its own durable
// writes that AsyncStorageWrites hands back. Those never reject: a node
// neither refuses its own entries nor votes against itself.
func stepFromSelfOK(m *raftpb.Message) bool {
	switch m.Type {
	case raftpb.MsgProp, raftpb.MsgReadIndex:
		return true
	case raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		return !m.Reject
	}
	return false
}

// Ready returns the outstanding work for the application: what to persist,
// send and apply. The application must process it as the package
// documentation describes and then call Advance (unless
// AsyncStorageWrites is on). Ready returns an empty Ready when there is
// nothing to do; HasReady tells cheaply.
func (rn *RawNode) Ready() Ready {
	rd := rn.readyWithoutAccept()
	rn.acceptReady(rd)
	return rd
}

// HasReady reports whether Ready would return any work.
func (rn *RawNode) HasReady() bool {
	r := rn.raft
	if r.softState() != rn.prevSoftSt {
		return true
	}
	hs := rn.readyHardState()
	if hs != (hardStateValue{}) && hs != rn.prevHardSt {
		return true
	}
	if r.raftLog.hasNextUnstableSnapshot() {
		return true
	}
	if len(r.msgs) > 0 || len(r.msgsAfterAppend) > 0 {
		return true
	}
	if r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts(hs.commit, rn.applyUnstableEntries()) {
		return true
	}
	return len(r.readStates) != 0
}

// Advance acknowledges the last Ready: its entries and hard state are
// durable, its messages sent, its committed entries applied. It must not
// be called with AsyncStorageWrites.
func (rn *RawNode) Advance(_ Ready) {
	if rn.asyncStorageWrites {
		rn.raft.panicf("Advance called with AsyncStorageWrites enabled")
	}
	r := rn.raft
	for i, m := range rn.stepsOnAdvance {
		_ = r.Step(m)
		rn.stepsOnAdvance[i] = nil
	}
	rn.stepsOnAdvance = rn.stepsOnAdvance[:0]
	acks := rn.onAdvance
	rn.onAdvance = advanceAcks{}
	if acks.stableIndex != 0 && acks.term == r.Term {
		r.raftLog.stableTo(acks.stableIndex, acks.stableTerm)
	}
	if acks.snapshot != nil {
		r.appliedSnap(acks.snapshot)
	}
	if acks.appliedIndex != 0 {
		r.appliedTo(acks.appliedIndex, acks.appliedSize)
		r.reduceUncommittedSize(acks.appliedPayload)
	}
}

// applyUnstableEntries reports whether committed entries may be handed
// out for applying before they are durable locally. In synchronous mode
// the application persists before applying within one Ready, so yes.
func (rn *RawNode) applyUnstableEntries() bool {
	return !rn.asyncStorageWrites
}

// ReportUnreachable tells the leader that the last message to id could not
// be delivered. The leader returns to probing that follower.
func (rn *RawNode) ReportUnreachable(id uint64) {
	_ = rn.raft.Step(&raftpb.Message{Type: raftpb.MsgUnreachable, From: id})
}

// SnapshotStatus is the outcome of sending a snapshot, for ReportSnapshot.
type SnapshotStatus int

const (
	SnapshotFinish  SnapshotStatus = 1
	SnapshotFailure SnapshotStatus = 2
)

// ReportSnapshot tells the leader whether the snapshot it asked to send to
// id was delivered. Either way the follower goes back to probing.
func (rn *RawNode) ReportSnapshot(id uint64, status SnapshotStatus) {
	_ = rn.raft.Step(&raftpb.Message{Type: raftpb.MsgSnapStatus, From: id, Reject: status == SnapshotFailure})
}

// TransferLeader asks the leader to hand leadership to transferee. On a
// follower the request is forwarded to the leader.
func (rn *RawNode) TransferLeader(transferee uint64) {
	_ = rn.raft.Step(&raftpb.Message{Type: raftpb.MsgTransferLeader, From: transferee})
}

// ForgetLeader makes a follower forget its leader, so that it will grant
// votes at once instead of waiting for the election timeout; use it when
// the application knows the leader is gone. It returns
// ErrForgetLeaderLease with lease-based reads, and is a no-op on leaders
// and candidates.
func (rn *RawNode) ForgetLeader() error {
	return rn.raft.Step(&raftpb.Message{Type: raftpb.MsgForgetLeader})
}

// ReadIndex requests a linearizable read point. rctx identifies the
// request; once confirmed, a ReadState with the same context appears in a
// Ready, and the application may serve the read after applying up to its
// Index. Requests made without a leader are dropped silently; retry them.
func (rn *RawNode) ReadIndex(rctx []byte) {
	_ = rn.raft.Step(&raftpb.Message{Type: raftpb.MsgReadIndex, Entries: []*raftpb.Entry{{Data: rctx}}})
}
