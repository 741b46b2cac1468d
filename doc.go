// Package raft implements the Raft consensus protocol (Ongaro and
// Ousterhout, "In Search of an Understandable Consensus Algorithm", and
// Ongaro's thesis, "Consensus: Bridging Theory and Practice") as a pure,
// deterministic state machine.
//
// The state machine does no I/O of its own: no clock, no goroutines, no
// network, no disk and no global randomness. Messages go in through Step,
// time goes in through Tick, and everything the application must do comes
// out in [Ready] batches. The same inputs always give the same outputs,
// which is what makes the library testable down to single messages.
//
// # The loop
//
// [RawNode] is the synchronous API; [Node] runs a RawNode in a goroutine
// behind channels. Either way the application runs one loop:
//
//  1. Call [RawNode.Tick] at a fixed interval (say every 100ms). Election
//     and heartbeat timeouts in [Config] are counted in ticks.
//  2. Feed every message received from a peer to [RawNode.Step], and
//     client requests to [RawNode.Propose] or [RawNode.ReadIndex].
//  3. When [RawNode.HasReady] is true, take a [Ready] with [RawNode.Ready]
//     and, in this order:
//     a. If Ready.Snapshot is set, persist it and restore the state
//     machine from it.
//     b. Append Ready.Entries to stable storage, replacing any stored
//     entries at the same or higher indexes, and persist
//     Ready.HardState if it is set. Sync to disk if Ready.MustSync.
//     (MemoryStorage.Append, SetHardState and ApplySnapshot do this for
//     the in-memory Storage.)
//     c. Send Ready.Messages to their destinations. Only now: a message
//     may promise something (a vote, an appended entry) that must
//     survive a crash. A MsgSnap needs the application's snapshot data;
//     report its fate with [RawNode.ReportSnapshot]. Report undeliverable
//     peers with [RawNode.ReportUnreachable].
//     d. Apply Ready.CommittedEntries to the state machine, in order. For
//     an entry of type EntryConfChange or EntryConfChangeV2, decode it
//     and call [RawNode.ApplyConfChange]; persist the returned ConfState
//     with the next snapshot.
//     e. Serve reads whose [ReadState] index is now applied.
//     f. Call [RawNode.Advance].
//  4. Now and then, take a snapshot of the state machine at an applied
//     index and compact the log behind it (MemoryStorage.CreateSnapshot
//     and MemoryStorage.Compact), so that the log does not grow forever.
//
// Steps b and d may overlap with sending when they are independent, but
// messages must never leave before the writes they depend on are durable.
//
// # Asynchronous storage writes
//
// With [Config.AsyncStorageWrites], Ready does not wait for Advance.
// Instead the storage work travels as messages in Ready.Messages: a
// MsgStorageAppend addressed to [LocalAppendThread] carries the entries,
// hard state (in its Term, Vote and Commit fields) and snapshot to
// persist; a MsgStorageApply addressed to [LocalApplyThread] carries
// committed entries to apply. Each carries Responses: once the write is
// durable (or the entries applied), deliver every response to its To —
// messages to this node go to [RawNode.Step], the others to peers.
// Appends must be carried out in the order they were emitted, and so must
// applies; the two streams may proceed independently of each other. This
// lets a leader write its own log in parallel with replicating it
// (thesis §10.2.1) and pipelines appends with applies.
//
// # Membership
//
// Membership changes are proposed with [RawNode.ProposeConfChange] and
// take effect when applied with [RawNode.ApplyConfChange]. A
// raftpb.ConfChangeV2 with several changes uses joint consensus (thesis
// §4.3). Learners receive the log but do not count toward a quorum.
//
// # Reads
//
// [RawNode.ReadIndex] yields linearizable reads without writing to the
// log (thesis §6.4), confirmed either by a heartbeat round (ReadOnlySafe)
// or by the leader lease that CheckQuorum maintains (ReadOnlyLeaseBased).
package raft
