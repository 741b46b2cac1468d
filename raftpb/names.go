package raftpb

// Short names for the generated enum values. protoc-gen-go prefixes every
// enum value with its type name (MessageType_MsgApp); Raft code reads far
// better with the names the literature uses, so they are aliased here once.

// Entry types.
const (
	EntryNormal       = EntryType_EntryNormal
	EntryConfChange   = EntryType_EntryConfChange
	EntryConfChangeV2 = EntryType_EntryConfChangeV2
)

// Message types.
const (
	MsgHup               = MessageType_MsgHup
	MsgBeat              = MessageType_MsgBeat
	MsgProp              = MessageType_MsgProp
	MsgApp               = MessageType_MsgApp
	MsgAppResp           = MessageType_MsgAppResp
	MsgVote              = MessageType_MsgVote
	MsgVoteResp          = MessageType_MsgVoteResp
	MsgSnap              = MessageType_MsgSnap
	MsgHeartbeat         = MessageType_MsgHeartbeat
	MsgHeartbeatResp     = MessageType_MsgHeartbeatResp
	MsgUnreachable       = MessageType_MsgUnreachable
	MsgSnapStatus        = MessageType_MsgSnapStatus
	MsgCheckQuorum       = MessageType_MsgCheckQuorum
	MsgTransferLeader    = MessageType_MsgTransferLeader
	MsgTimeoutNow        = MessageType_MsgTimeoutNow
	MsgReadIndex         = MessageType_MsgReadIndex
	MsgReadIndexResp     = MessageType_MsgReadIndexResp
	MsgPreVote           = MessageType_MsgPreVote
	MsgPreVoteResp       = MessageType_MsgPreVoteResp
	MsgStorageAppend     = MessageType_MsgStorageAppend
	MsgStorageAppendResp = MessageType_MsgStorageAppendResp
	MsgStorageApply      = MessageType_MsgStorageApply
	MsgStorageApplyResp  = MessageType_MsgStorageApplyResp
	MsgForgetLeader      = MessageType_MsgForgetLeader
)

// Conf change types.
const (
	ConfChangeAddNode        = ConfChangeType_ConfChangeAddNode
	ConfChangeRemoveNode     = ConfChangeType_ConfChangeRemoveNode
	ConfChangeUpdateNode     = ConfChangeType_ConfChangeUpdateNode
	ConfChangeAddLearnerNode = ConfChangeType_ConfChangeAddLearnerNode
)

// Conf change transitions.
const (
	ConfChangeTransitionAuto          = ConfChangeTransition_ConfChangeTransitionAuto
	ConfChangeTransitionJointImplicit = ConfChangeTransition_ConfChangeTransitionJointImplicit
	ConfChangeTransitionJointExplicit = ConfChangeTransition_ConfChangeTransitionJointExplicit
)

// numMessageTypes bounds the valid MessageType values; anything at or above
// it is a type this build does not know.
const numMessageTypes = int32(MsgForgetLeader) + 1

// IsKnown reports whether t is a message type this build understands. A
// peer running a newer version may send types we do not know; the state
// machine must reject those rather than misinterpret them.
func (t MessageType) IsKnown() bool {
	return int32(t) >= 0 && int32(t) < numMessageTypes
}

var localMsgs = [numMessageTypes]bool{
	MsgHup:               true,
	MsgBeat:              true,
	MsgUnreachable:       true,
	MsgSnapStatus:        true,
	MsgCheckQuorum:       true,
	MsgStorageAppend:     true,
	MsgStorageAppendResp: true,
	MsgStorageApply:      true,
	MsgStorageApplyResp:  true,
}

var responseMsgs = [numMessageTypes]bool{
	MsgAppResp:           true,
	MsgVoteResp:          true,
	MsgHeartbeatResp:     true,
	MsgUnreachable:       true,
	MsgReadIndexResp:     true,
	MsgPreVoteResp:       true,
	MsgStorageAppendResp: true,
	MsgStorageApplyResp:  true,
}

// IsLocal reports whether messages of type t are generated and consumed on
// the same node and must never arrive from the network.
func (t MessageType) IsLocal() bool { return t.IsKnown() && localMsgs[t] }

// IsResponse reports whether t answers an earlier message.
func (t MessageType) IsResponse() bool { return t.IsKnown() && responseMsgs[t] }

// IsLocalStorage reports whether t is one of the async storage messages
// exchanged between the state machine and its storage goroutines.
func (t MessageType) IsLocalStorage() bool {
	return t == MsgStorageAppend || t == MsgStorageAppendResp ||
		t == MsgStorageApply || t == MsgStorageApplyResp
}

// VoteResponseType returns the response type for a vote request type.
// Calling it with anything but MsgVote or MsgPreVote is a bug.
func VoteResponseType(t MessageType) MessageType {
	switch t {
	case MsgVote:
		return MsgVoteResp
	case MsgPreVote:
		return MsgPreVoteResp
	}
	panic("raftpb: VoteResponseType called with non-vote type " + t.String())
}
