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

	// The next ones take out, one each, fixes of bugs that rafttest/sim
	// found (rafttest/sim/FINDINGS.md), so that TestInteractionCatchesMutations
	// proves their regression scripts still notice them.

	// IgnoreLowerTermVote drops a vote request of an older term instead
	// of rejecting it with our term (bug 4, ecd9b66), so a candidate that
	// asks only such nodes never learns of newer terms.
	IgnoreLowerTermVote bool
	// RejectedVoteResetsClock restarts the election clock when a vote
	// request of a higher term moves us to its term even if the vote is
	// rejected (bug 5, f02de80); paper §5.2 restarts it only on a grant.
	RejectedVoteResetsClock bool
	// StaleLeaderNotTold ignores appends and heartbeats of an older term
	// unless CheckQuorum or PreVote is on (bug 6, ab93d56), so a stale
	// leader may never learn the newer term (paper §5.1).
	StaleLeaderNotTold bool
	// NoHoldBackForCandidate campaigns on the usual timeout after
	// rejecting an older-term vote request we would otherwise grant
	// (bug 7, fcd9255), so a node ahead in term but behind in log can
	// keep outrunning the one candidate that can win.
	NoHoldBackForCandidate bool
	// NonVoterHidesCommit leaves the commit point out of a non-voter's
	// vote rejection (bug 3, 6886369), so a candidate stuck in a joint
	// configuration that needs the non-voter's vote may never win.
	NonVoterHidesCommit bool
	// StepDownAtOnce makes a leader that StepDownOnRemoval removes or
	// demotes become a follower at once instead of handing leadership
	// over (bug 2, f267b49).
	StepDownAtOnce bool
	// The three parts of bug 1 (813e018), lease reads that outlive the
	// lease. LeaseIgnoresAcks serves lease reads without a quorum of
	// recent heartbeat acks; NoStartupLease lets a restarted node vote at
	// once; LeaseSurvivesTransfer serves lease reads after MsgTimeoutNow.
	LeaseIgnoresAcks      bool
	NoStartupLease        bool
	LeaseSurvivesTransfer bool
}

func mutVoteIgnoresLog() bool { return Mutations.VoteIgnoresLog }

func mutCommitCountsOldTerm() bool { return Mutations.CommitCountsOldTerm }

func mutIgnoreEpoch() bool { return Mutations.IgnoreEpoch }

func mutStableIgnoresTerm() bool { return Mutations.StableIgnoresTerm }

func mutIgnoreLowerTermVote() bool { return Mutations.IgnoreLowerTermVote }

func mutRejectedVoteResetsClock() bool { return Mutations.RejectedVoteResetsClock }

func mutStaleLeaderNotTold() bool { return Mutations.StaleLeaderNotTold }

func mutNoHoldBackForCandidate() bool { return Mutations.NoHoldBackForCandidate }

func mutNonVoterHidesCommit() bool { return Mutations.NonVoterHidesCommit }

func mutStepDownAtOnce() bool { return Mutations.StepDownAtOnce }

func mutLeaseIgnoresAcks() bool { return Mutations.LeaseIgnoresAcks }

func mutNoStartupLease() bool { return Mutations.NoStartupLease }

func mutLeaseSurvivesTransfer() bool { return Mutations.LeaseSurvivesTransfer }
