package quorum

import (
	"math"
	"strconv"
)

// Index is a position in the Raft log as seen by the quorum math. The value
// math.MaxUint64 stands for "no constraint" and prints as ∞: it is what an
// empty majority commits, so that taking the minimum over the halves of a
// joint configuration ignores an empty half.
type Index uint64

// String returns the decimal index, or ∞ for math.MaxUint64.
func (i Index) String() string {
	if i == math.MaxUint64 {
		return "∞"
	}
	return strconv.FormatUint(uint64(i), 10)
}

// AckedIndexer reports, for a voter, the highest log index that voter is
// known to have durably appended. found is false when nothing is known about
// the voter; the quorum math then treats it as having acknowledged index 0.
//
// Implementations are called on the leader's hot path and should neither
// allocate nor retain voterID.
type AckedIndexer interface {
	AckedIndex(voterID uint64) (idx Index, found bool)
}

// MapAckIndexer is an AckedIndexer backed by a map, convenient in tests and
// for callers that have no natural per-voter structure.
type MapAckIndexer map[uint64]Index

// AckedIndex implements AckedIndexer.
func (m MapAckIndexer) AckedIndex(id uint64) (Index, bool) {
	idx, ok := m[id]
	return idx, ok
}

// VoteResult is the state of an election from the point of view of one
// configuration. The zero value is deliberately invalid so that a forgotten
// initialisation shows up as "VoteResult(0)" rather than as a result.
type VoteResult uint8

const (
	// VotePending means the outcome still depends on votes not yet cast.
	VotePending VoteResult = 1 + iota
	// VoteLost means no combination of the missing votes can win.
	VoteLost
	// VoteWon means a quorum granted the vote; missing votes cannot undo it.
	VoteWon
)

// String returns the constant's name, e.g. "VoteWon".
func (v VoteResult) String() string {
	switch v {
	case VotePending:
		return "VotePending"
	case VoteLost:
		return "VoteLost"
	case VoteWon:
		return "VoteWon"
	}
	return "VoteResult(" + strconv.Itoa(int(v)) + ")"
}
