// Package sim is a deterministic chaos simulator for the raft library. It
// runs a cluster of 3, 5 or 7 RawNodes in one goroutine on a virtual
// clock and throws faults at it, all drawn from one seed, checking the
// safety properties of Raft after every event and liveness and
// linearizability at the end. It follows the idea of willemt/raft's
// virtraft2, made deterministic: the same seed always replays the same
// run, event for event.
//
// # What a run does
//
// [New] builds a cluster from [Options]: every node bootstraps as a voter,
// and the protocol options (CheckQuorum, PreVote, lease reads, async
// storage writes, in-flight limits) are drawn from the seed. Before the
// run starts, a fault schedule is drawn: network partitions (random
// splits, an isolated leader, minority against majority), one-way link
// cuts, message loss, duplication and reordering bursts, slow links,
// crashes with later restarts (of a given node, of the current leader, of
// the next node to win an election before it sends anything, of the next
// leader to advance its commit index before it tells anyone), log
// compaction, leadership transfers and membership changes (adding and
// removing voters and learners, promotions, joint changes). Node clocks tick at different rates when
// skew is on. Clients write to and read from a small key-value store
// throughout: writes are proposals, reads use ReadIndex.
//
// A crash loses everything the node had not synced: its disk keeps only
// what Ready said to persist, and of that only what was synced (a hard
// state that only advances the commit index need not be; see
// raft.Ready.MustSync). With async storage writes, queued appends and
// applies are lost as well.
//
// [Sim.Run] processes events in virtual-time order. After each one, the
// checker verifies, incrementally:
//
//   - election safety: at most one leader per term;
//   - log matching: entries with equal index and term have equal
//     prefixes (compared by a running hash of the log);
//   - leader completeness: a new leader holds every committed entry;
//   - state machine safety: every node commits and applies the same
//     entry at each index, and applies in order;
//   - committed entries are never overwritten;
//   - term, vote and commit never go backwards in the hard state a node
//     writes, and a restarted node finds every synced write;
//   - applied ≤ committed;
//   - a leader appends a conf change only when no other is unapplied;
//   - a leader advances its commit index only to an entry of its own
//     term (paper §5.4.2, Figure 8).
//
// While the chaos runs, a monitor reports a deadlock when nothing commits
// for thirty election timeouts although a quorum is up and connected and
// nothing disrupted it. Then a heal phase removes every fault and
// restarts every node; within sixty election timeouts a leader must
// commit a new write. Finally the client history is checked for
// linearizability with porcupine.
//
// # Reproducing and shrinking
//
// A failing run reports its first violation with the tail of its trace.
// [Shrink] removes entries from the fault schedule while the run still
// fails the same way; [ReplayCommand] prints the command that reruns the
// result exactly. Options.Trace writes every event as a JSON line.
//
// # Running it
//
// The command cmd/raftsim runs seed ranges and prints a summary:
//
//	go run ./cmd/raftsim -seeds 1-1000 -nodes 5 -faults all
//
// A longer soak, for before a release (some 14 billion events, under an
// hour on 8 cores: one core runs about 1.7 million events a second, a
// 5-node seed is about 30,000):
//
//	go run ./cmd/raftsim -seeds 1-200000 -nodes 5 -faults all -j 8
//	go run ./cmd/raftsim -seeds 1-100000 -nodes 7 -faults all -j 8
//	go run ./cmd/raftsim -seeds 1-100000 -nodes 3 -faults all -duration 60000 -j 8
//
// # Bugs it found
//
// Each is fixed in the library, with a script in testdata:
//
//   - lease-based reads outlived the lease: a leader cut off right after
//     a CheckQuorum round served stale reads while the others elected a
//     new leader (read_index_lease_expiry.txt, read_index_lease_restart.txt,
//     read_index_lease_transfer.txt);
//   - a leader that demoted itself with StepDownOnRemoval stepped down at
//     once, which could leave the followers in a joint configuration that
//     needed its vote, for ever (confchange_v2_demote_leader_stepdown_commit.txt);
//   - likewise a demoted leader that lost its leadership otherwise held the
//     longest log, refused every candidate and could not campaign itself
//     (confchange_v2_demoted_learner_longest_log.txt);
//   - vote requests from an older term went unanswered, so a candidate
//     that only asks a peer with a stale configuration never learned of
//     its newer terms and asked for ever (vote_lower_term_reject.txt);
//   - a rejected vote request of a higher term restarted the election
//     clock, so a candidate with a stale log that kept timing out first
//     kept the nodes that could win from campaigning
//     (vote_reject_keeps_election_clock.txt);
//   - without CheckQuorum and PreVote a stale leader was never told of a
//     newer term when no node in it would campaign, and sent heartbeats
//     for ever (stale_leader_told_term.txt);
//   - a node behind in log but ahead in term, with a fast clock, kept its
//     term ahead of the only candidate that could win, which learned the
//     term only from rejections (vote_lower_term_backoff.txt).
//
// FINDINGS.md in this directory lists them with their fix commits, the
// seeds run (CI and soak) and the measured throughput.
//
// # Mutation tests
//
// With the raftmutation build tag the library's deliberate bugs
// (raft.Mutations) and this package's lying disk (Mutations) can be
// switched on; the mutation tests assert that the simulator reports each
// within a bounded number of seeds:
//
//	go test -tags raftmutation ./rafttest/sim/...
package sim
