//go:build raftmutation

package raft

// Mutations switches deliberate bugs on, so that tests can prove their
// safety checkers notice them (mutation testing: a checker that stays quiet
// when the protocol is broken checks nothing). It only exists in builds
// with the raftmutation tag; rafttest/sim's mutation tests use it. Set the
// fields before creating nodes and do not change them while nodes run.
var Mutations struct {
	// VoteIgnoresLog grants votes without the up-to-date check of paper
	// §5.4.1, so a candidate missing committed entries can win.
	VoteIgnoresLog bool
	// CommitCountsOldTerm lets a leader commit an entry of an earlier term
	// by counting replicas, which paper §5.4.2 (Figure 8) forbids.
	CommitCountsOldTerm bool
	// IgnoreEpoch accepts append, heartbeat and vote responses whatever
	// their epoch, so an answer from a removed node's earlier incarnation
	// updates the record of the node added back (the "rejoin" bug).
	IgnoreEpoch bool
	// StableIgnoresTerm marks unstable entries durable by index alone, so
	// the ack of a write whose entry a newer leader has replaced counts
	// for the replacement, which is not on disk yet.
	StableIgnoresTerm bool
}

func mutVoteIgnoresLog() bool { return Mutations.VoteIgnoresLog }

func mutCommitCountsOldTerm() bool { return Mutations.CommitCountsOldTerm }

func mutIgnoreEpoch() bool { return Mutations.IgnoreEpoch }

func mutStableIgnoresTerm() bool { return Mutations.StableIgnoresTerm }
