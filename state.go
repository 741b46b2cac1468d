package raft

import (
	"fmt"
	"math"
)

// StateType is the role a node plays.
type StateType uint8

// The roles. StatePreCandidate is only used with Config.PreVote.
const (
	StateFollower StateType = iota
	StateCandidate
	StateLeader
	StatePreCandidate
)

var stateNames = [...]string{"StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"}

func (st StateType) String() string {
	if int(st) < len(stateNames) {
		return stateNames[st]
	}
	return fmt.Sprintf("StateType(%d)", uint8(st))
}

// MarshalText makes StateType print by name in JSON.
func (st StateType) MarshalText() ([]byte, error) { return []byte(st.String()), nil }

// The pseudo node IDs of the local storage goroutines in
// Config.AsyncStorageWrites mode: MsgStorageAppend is addressed to
// LocalAppendThread, MsgStorageApply to LocalApplyThread.
const (
	LocalAppendThread uint64 = math.MaxUint64
	LocalApplyThread  uint64 = math.MaxUint64 - 1
)

// SoftState is volatile state that need not be persisted: who leads and
// what role this node has.
type SoftState struct {
	Lead      uint64    `json:"lead"`
	RaftState StateType `json:"raft_state"`
}

// ReadState answers a ReadIndex request: once the application has applied
// entries up to Index, it may serve the read identified by RequestCtx.
type ReadState struct {
	Index      uint64
	RequestCtx []byte
}

// Peer names a node for Bootstrap and StartNode. Context is opaque to raft
// and ends up in the bootstrap ConfChange entry.
type Peer struct {
	ID      uint64
	Context []byte
}

// campaignType says why a node campaigns.
type campaignType uint8

const (
	campaignPreElection campaignType = iota
	campaignElection
	// campaignTransfer is an election forced by MsgTimeoutNow during a
	// leadership transfer; voters must not refuse it because of a lease.
	campaignTransfer
)

func (t campaignType) String() string {
	return [...]string{"CampaignPreElection", "CampaignElection", "CampaignTransfer"}[t]
}

// campaignTransferCtx marks vote requests of a forced transfer election.
var campaignTransferCtx = []byte("CampaignTransfer")
