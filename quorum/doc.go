// Package quorum answers the two questions Raft asks of a set of voters,
// as pure functions of the voters' state:
//
//   - Which log index is durable on enough voters to be committed?
//     ([MajorityConfig.CommittedIndex], [JointConfig.CommittedIndex])
//   - Has an election been won, lost, or is it still open?
//     ([MajorityConfig.VoteResult], [JointConfig.VoteResult])
//
// A [MajorityConfig] is a plain set of voter IDs; a decision needs more than
// half of them (Raft paper §5.2 for elections, §5.3 for commitment). A
// [JointConfig] pairs the incoming and the outgoing majority used during a
// membership change (Raft thesis §4.3, "joint consensus"): a decision needs a
// majority of each half independently. Outside a membership change the
// outgoing half is empty, and an empty majority is defined to agree with
// everything (it commits up to ∞ and always votes "won"), so the joint rule
// degenerates to the plain majority rule without special cases.
//
// The package knows nothing about messages, logs or peers' progress. Callers
// describe what each voter has acknowledged through the small [AckedIndexer]
// interface and pass votes as a map. This keeps the math testable in
// isolation: see testdata/ for scripted examples and quick_test.go for a
// randomized comparison against a deliberately naive model.
//
// CommittedIndex sits on the leader's hot path (it runs on every append
// acknowledgement) and does not allocate for clusters of up to seven voters.
package quorum
