package raft

import (
	"errors"
	"fmt"
	"math"

	"go.uber.org/zap"
)

// None is the placeholder node ID used when there is no leader or no vote.
const None uint64 = 0

// noLimit is the value of a size limit that does not limit.
const noLimit = math.MaxUint64

// ReadOnlyOption selects how ReadIndex requests are served.
type ReadOnlyOption int

const (
	// ReadOnlySafe confirms leadership for every read with a round of
	// heartbeats acknowledged by a quorum (Raft thesis §6.4). It is safe
	// whatever the clocks do.
	ReadOnlySafe ReadOnlyOption = iota
	// ReadOnlyLeaseBased trusts a leader lease (thesis §6.4.1) and answers
	// reads without a heartbeat round of their own. The lease lasts
	// (ElectionTick-1)*2/3 of the leader's ticks from the sending of the
	// latest heartbeat a quorum acknowledged, and ends when the leader
	// starts a leadership transfer. It is only correct while no node's
	// clock runs more than 1.5 times as fast as another's; it requires
	// CheckQuorum. In this mode a node restarting with a persisted term
	// refuses votes for an election timeout, since it may have been part
	// of a lease before it went down.
	ReadOnlyLeaseBased
)

func (o ReadOnlyOption) String() string {
	switch o {
	case ReadOnlySafe:
		return "ReadOnlySafe"
	case ReadOnlyLeaseBased:
		return "ReadOnlyLeaseBased"
	}
	return fmt.Sprintf("ReadOnlyOption(%d)", int(o))
}

// RandSource yields uniformly distributed pseudo-random 64-bit numbers. The
// state machine draws from it only to randomize election timeouts.
// *math/rand/v2.Rand and its sources (PCG, ChaCha8) satisfy it.
// Implementations need not be safe for concurrent use: each node owns its
// source.
type RandSource interface {
	Uint64() uint64
}

// ErrInvalidConfig is wrapped by every error Config.Validate returns, and so
// by NewRawNode, StartNode and RestartNode when given an invalid Config.
var ErrInvalidConfig = errors.New("raft: invalid config")

// Config holds the parameters of one raft node. The zero value is not valid:
// at least ID, ElectionTick, HeartbeatTick, Storage and MaxInflightMsgs must
// be set. Validate checks it without changing it.
type Config struct {
	// ID identifies this node. It must not be 0 (None).
	ID uint64

	// ElectionTick is the number of Tick calls a follower waits without
	// hearing from a leader before it campaigns. The actual timeout is
	// randomized per election in [ElectionTick, 2*ElectionTick) (Raft paper
	// §5.2). It must be greater than HeartbeatTick; ten times is usual. With
	// CheckQuorum it is also the period over which a leader must hear from a
	// quorum to keep its leadership.
	ElectionTick int

	// HeartbeatTick is the number of Tick calls between heartbeats a leader
	// sends. It must be positive.
	HeartbeatTick int

	// Storage is where the node reads its persisted log, hard state and
	// snapshot. The node never writes to it: the application persists what
	// Ready hands it. Required.
	Storage Storage

	// Applied is the index of the last entry the application had applied
	// before a restart. Entries at or below it are not handed out again. It
	// must not exceed the persisted commit index. Zero on a fresh node.
	Applied uint64

	// MaxSizePerMsg limits the encoded size of the entries in one append
	// message, in bytes. At least one entry is always sent, so 0 means one
	// entry per message and math.MaxUint64 means no limit. Smaller values
	// lower recovery cost after rejections; larger ones raise throughput.
	MaxSizePerMsg uint64

	// MaxCommittedSizePerReady limits the encoded size, in bytes, of the
	// committed entries one Ready hands out for applying (at least one
	// entry is always handed out). Zero means no limit.
	MaxCommittedSizePerReady uint64

	// MaxUncommittedEntriesSize limits the total payload size, in bytes of
	// entry Data, of the entries a leader has appended but not yet seen
	// applied. Proposals over the limit are dropped with ErrProposalDropped
	// (a single proposal is always accepted when nothing is outstanding, so
	// that a large entry cannot wedge the node). Zero means no limit.
	MaxUncommittedEntriesSize uint64

	// MaxInflightMsgs limits how many append messages a leader keeps in
	// flight to one follower while replicating optimistically. It must be
	// positive. Messages sent with pipelining wait in the transport, so pick
	// it with the transport's buffer in mind.
	MaxInflightMsgs int

	// MaxInflightBytes limits the total payload bytes of the in-flight
	// append messages to one follower, in addition to MaxInflightMsgs. Zero
	// means no byte limit; otherwise it must be at least MaxSizePerMsg.
	MaxInflightBytes uint64

	// CheckQuorum makes a leader step down when it has not heard from a
	// quorum within an election timeout, and makes followers ignore vote
	// requests while they have heard from a leader within the timeout
	// (thesis §4.2.3 and §6.2). Default off.
	CheckQuorum bool

	// PreVote runs a pre-election before every election: a node only
	// increments its term once a quorum says it could win, so a node coming
	// back from a partition cannot disrupt the cluster (thesis §9.6).
	// Default off.
	PreVote bool

	// ReadOnlyOption selects how ReadIndex is served. The zero value is
	// ReadOnlySafe. ReadOnlyLeaseBased requires CheckQuorum.
	ReadOnlyOption ReadOnlyOption

	// DisableProposalForwarding makes followers drop proposals (with
	// ErrProposalDropped) instead of forwarding them to the leader.
	DisableProposalForwarding bool

	// DisableConfChangeValidation turns off the leader's checks that refuse
	// a conf change while an earlier one is unapplied, or a conf change that
	// does not fit the joint state. The application then takes
	// responsibility for proposing only valid sequences; an invalid change
	// still fails with an error when applied.
	DisableConfChangeValidation bool

	// StepDownOnRemoval makes a leader that a configuration change removes
	// or demotes to learner hand leadership to the voter with the longest
	// log (a leadership transfer, retried every election timeout) and step
	// down once that voter has caught up. Otherwise it keeps leading (without
	// counting itself) until it is replaced; the application should then
	// transfer leadership itself, since the followers will not campaign
	// while it sends heartbeats.
	StepDownOnRemoval bool

	// AsyncStorageWrites replaces the Ready/Advance storage contract with
	// local messages: Ready carries a MsgStorageAppend to LocalAppendThread
	// and a MsgStorageApply to LocalApplyThread, whose Responses are stepped
	// back once the work is durable or applied. Advance must not be called.
	// See doc.go for the contract. Default off.
	AsyncStorageWrites bool

	// Logger receives the node's structured log. Nil means no logging. The
	// node adds a raft_id field.
	Logger *zap.Logger

	// Rand randomizes election timeouts. Nil means a deterministic source
	// seeded from ID, so every node of a cluster differs from the others and
	// every run of the same inputs gives the same outputs. Supply your own
	// (for example a math/rand/v2 PCG seeded from crypto/rand) if several
	// clusters with the same IDs must not behave alike.
	Rand RandSource
}

// Validate reports whether c is usable. It does not modify c. Every error
// wraps ErrInvalidConfig.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c == nil:
		return bad("nil config")
	case c.ID == None:
		return bad("ID must not be %d (None)", None)
	case c.HeartbeatTick <= 0:
		return bad("HeartbeatTick must be positive, got %d", c.HeartbeatTick)
	case c.ElectionTick <= c.HeartbeatTick:
		return bad("ElectionTick (%d) must be greater than HeartbeatTick (%d)", c.ElectionTick, c.HeartbeatTick)
	case c.Storage == nil:
		return bad("Storage must not be nil")
	case c.MaxInflightMsgs <= 0:
		return bad("MaxInflightMsgs must be positive, got %d", c.MaxInflightMsgs)
	case c.MaxInflightBytes != 0 && c.MaxInflightBytes < c.MaxSizePerMsg:
		return bad("MaxInflightBytes (%d) must be 0 or at least MaxSizePerMsg (%d)", c.MaxInflightBytes, c.MaxSizePerMsg)
	case c.ReadOnlyOption != ReadOnlySafe && c.ReadOnlyOption != ReadOnlyLeaseBased:
		return bad("unknown ReadOnlyOption %d", int(c.ReadOnlyOption))
	case c.ReadOnlyOption == ReadOnlyLeaseBased && !c.CheckQuorum:
		return bad("ReadOnlyLeaseBased requires CheckQuorum")
	}
	return nil
}

// orNoLimit maps the "zero means unlimited" convention to noLimit.
func orNoLimit(v uint64) uint64 {
	if v == 0 {
		return noLimit
	}
	return v
}
