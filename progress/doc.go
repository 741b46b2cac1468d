// Package progress holds what a Raft leader knows about each of its peers
// and the bookkeeping built on top of it.
//
// A leader replicates its log to every follower and learner (Raft paper
// §5.3). For each peer it keeps a [Progress]: how much of the log the peer is
// known to hold ([Progress.Match]), which entry to send next
// ([Progress.Next]), and how aggressively to send. The sending mode is a
// small state machine, [StateType]:
//
//   - [StateProbe]: the leader does not know where the peer's log diverges
//     from its own. It sends one append at a time and waits for the answer,
//     moving Next backwards on each rejection (paper §5.3, "the leader
//     decrements nextIndex and retries"), helped by the follower's hint.
//   - [StateReplicate]: the peer is known to match up to Match. The leader
//     streams appends optimistically, advancing Next as it sends, bounded by
//     [Inflights], a window of unacknowledged messages limited both in count
//     and in bytes so a slow peer cannot make the leader buffer without bound.
//   - [StateSnapshot]: the entries the peer needs were compacted away, so the
//     leader sent a snapshot (paper §7) and sends nothing else until the peer
//     reports on it.
//
// The usual life of a peer is probe → replicate, dropping back to probe on a
// rejection or an unreachable report, with a detour through snapshot when
// the log has been compacted past what the peer has.
//
// A [Tracker] gathers the progress of all peers together with the cluster
// membership ([Config]: voters, possibly a joint configuration during a
// membership change, and learners) and the votes of an ongoing election. It
// answers the leader's questions in terms of the quorum package: which index
// is committed ([Tracker.Committed]), whether an election was won
// ([Tracker.TallyVotes]), and whether a quorum was recently heard from
// ([Tracker.QuorumActive], for check-quorum, thesis §6.2).
//
// Nothing here sends messages or reads the log: the Raft core calls the
// methods below at the points where it sends and receives, and reads back
// the decisions. The hot-path methods ([Tracker.Committed], [Tracker.Visit],
// [Inflights.Add], [Inflights.FreeLE]) do not allocate for clusters of up to
// seven peers.
package progress
