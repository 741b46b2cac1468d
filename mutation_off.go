//go:build !raftmutation

package raft

// Without the raftmutation build tag every mutation hook is a constant
// false: the compiler inlines the calls and drops the mutated branches, so
// production builds carry no trace of them and nothing is exported. See
// mutation_on.go for what the hooks do.

func mutVoteIgnoresLog() bool { return false }

func mutCommitCountsOldTerm() bool { return false }

func mutIgnoreEpoch() bool { return false }

func mutStableIgnoresTerm() bool { return false }

func mutIgnoreLowerTermVote() bool { return false }

func mutRejectedVoteResetsClock() bool { return false }

func mutStaleLeaderNotTold() bool { return false }

func mutNoHoldBackForCandidate() bool { return false }

func mutNonVoterHidesCommit() bool { return false }

func mutStepDownAtOnce() bool { return false }

func mutLeaseIgnoresAcks() bool { return false }

func mutNoStartupLease() bool { return false }

func mutLeaseSurvivesTransfer() bool { return false }
