// Package confchange computes Raft membership changes: given the current
// [progress.Tracker] and a list of [raftpb.ConfChangeSingle], it returns the
// configuration and progress map the cluster moves to, or an error saying
// why the change is not allowed. It never modifies the tracker it is given;
// the caller installs the result once the change has been applied.
//
// # Simple changes and joint consensus
//
// Raft decides everything by majorities of voters. If a cluster switched
// from one set of voters to another in a single step, a majority of the old
// set and a majority of the new set could be disjoint and elect two leaders
// in the same term. Changing one voter at a time is safe, because any
// majority of the old set overlaps any majority of the new one (Raft thesis
// §4.1); [Changer.Simple] implements this and refuses changes that touch
// more than one voter.
//
// Arbitrary changes use joint consensus (Raft thesis §4.3). The cluster
// first enters a joint configuration C_old,new ([Changer.EnterJoint]) in
// which elections and commitment need a majority of the outgoing voters
// (C_old) and, separately, a majority of the incoming voters (C_new). Once
// that configuration is committed, the cluster leaves it
// ([Changer.LeaveJoint]) and only C_new remains. At no point can either
// side decide alone. The configuration keeps the incoming voters in
// Voters[0] and the outgoing ones in Voters[1]; outside a joint
// configuration Voters[1] is empty.
//
// # Learners
//
// Learners receive the log but do not vote (Raft thesis §4.2.1, where they
// are called non-voting members); they let a new node catch up before it is
// promoted. A node is never a voter and a learner at the same time. This
// matters while joint: a voter of the outgoing half that is being demoted
// must keep voting until the joint configuration is left, so instead of
// becoming a learner at once it is parked in LearnersNext and becomes a
// learner in [Changer.LeaveJoint].
//
// # Progress
//
// Every voter and learner has a [progress.Progress], and nothing else does.
// A node that is added gets a fresh Progress that is probed from
// Changer.LastIndex; a node that changes role (learner promoted to voter,
// voter demoted to learner) keeps its Progress, copied by value, so
// replication to it continues where it was. A removed node's Progress is
// dropped only when it no longer belongs to either half.
//
// [Restore] rebuilds a configuration from the [raftpb.ConfState] stored in a
// snapshot, by replaying the simple and joint steps that lead to it.
package confchange
