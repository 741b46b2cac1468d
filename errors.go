package raft

import "errors"

// ErrProposalDropped is returned by RawNode.Propose, RawNode.ProposeConfChange,
// Node.Propose and Node.ProposeConfChange (and by Step for a MsgProp) when
// the proposal was not appended: there is no known leader, forwarding is
// disabled, a leadership transfer is in progress, the leader was removed,
// or the uncommitted-size limit is reached. The caller may retry later.
var ErrProposalDropped = errors.New("raft proposal dropped")

// ErrStepLocalMsg is returned by RawNode.Step and Node.Step for a message
// type that only the node itself may generate (MsgHup, MsgBeat, ...).
var ErrStepLocalMsg = errors.New("raft: cannot step raft local message")

// ErrStepPeerNotFound is returned by RawNode.Step and Node.Step for a
// response from a node that is not in the configuration.
var ErrStepPeerNotFound = errors.New("raft: cannot step as peer not found")

// ErrUnknownMessageType is returned by RawNode.Step and Node.Step for a
// message whose type this build does not know, such as one from a newer
// peer. The message is ignored.
var ErrUnknownMessageType = errors.New("raft: unknown message type")

// ErrMalformedMessage is returned by RawNode.Step and Node.Step for a
// message that is structurally invalid (nil, or missing a required part)
// or addressed to another node.
var ErrMalformedMessage = errors.New("raft: malformed message")

// ErrForgetLeaderLease is returned by RawNode.ForgetLeader and Node.ForgetLeader
// when ReadOnlyLeaseBased is on: forgetting the leader would break the
// lease the leader relies on.
var ErrForgetLeaderLease = errors.New("raft: cannot forget leader with lease-based reads")

// ErrBootstrapNonEmpty is returned by RawNode.Bootstrap and StartNode when
// the storage already holds a log.
var ErrBootstrapNonEmpty = errors.New("raft: cannot bootstrap a non-empty storage")
