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
// # Starting a node
//
// A node of a new cluster starts from empty storage: [NewRawNode] then
// [RawNode.Bootstrap] with the initial members, or [StartNode], which does
// both. A node that has run before starts from what it persisted:
// [NewRawNode] or [RestartNode] over the same [Storage], with
// [Config.Applied] set to the last index the state machine had applied if
// it survived the restart. A node joining an existing cluster starts with
// empty storage and no Bootstrap; the leader brings it up to date once a
// configuration change has added it.
//
// # The loop
//
// [RawNode] is the synchronous API; [Node] runs a RawNode in a goroutine
// behind channels. Either way the application runs one loop (see
// ExampleRawNode and ExampleNode):
//
//  1. Call [RawNode.Tick] at a fixed interval (say every 100ms). Election
//     and heartbeat timeouts in [Config] are counted in ticks.
//  2. Feed every message received from a peer to [RawNode.Step], and
//     client requests to [RawNode.Propose] or [RawNode.ReadIndex]. Step
//     refuses messages it cannot trust (unknown type, no sender, addressed
//     to another node, ...) with the sentinel errors of this package;
//     drop them and carry on.
//  3. When [RawNode.HasReady] is true, take a [Ready] with [RawNode.Ready]
//     and handle it as the next section says.
//  4. Now and then, snapshot the state machine at an applied index and
//     compact the log behind it (MemoryStorage.CreateSnapshot with the
//     ConfState in force at that index, then MemoryStorage.Compact), so
//     that the log does not grow forever.
//
// # Handling a Ready
//
// Do this, in this order:
//
//  1. If Ready.Snapshot is set, persist it and restore the state machine
//     from it.
//  2. Append Ready.Entries to stable storage, replacing any stored entries
//     at the same or higher indexes, and persist Ready.HardState if it is
//     set. Sync to disk if Ready.MustSync. (MemoryStorage.ApplySnapshot,
//     Append and SetHardState do this for the in-memory Storage.) The
//     hard state's commit index may cover entries of this same Ready: a
//     follower learns it along with the entries, and a leader alone in its
//     configuration commits its entries in the Ready that appends them (it
//     is its own quorum, and this step makes them durable). So a crash
//     must never leave that hard state durable without those entries:
//     write both in one atomic batch, or the entries first.
//  3. Send Ready.Messages to their destinations. Only now: a message may
//     promise something (a vote, an appended entry) that must survive a
//     crash, so persisting comes first (paper §5.1, Figure 2). The network
//     may lose, duplicate or reorder messages; raft copes, though in-order
//     delivery replicates faster. A MsgSnap needs the application's
//     snapshot data; report its fate with [RawNode.ReportSnapshot]. Report
//     undeliverable peers with [RawNode.ReportUnreachable].
//  4. Apply Ready.CommittedEntries to the state machine, in order. They may
//     include entries of this same Ready's Entries, which step 2 made
//     durable; a lone voter's proposals always commit that way. For an
//     entry of type EntryConfChange or EntryConfChangeV2, decode it with
//     raftpb.UnmarshalConfChange and call [RawNode.ApplyConfChange]; keep
//     the returned ConfState for the next snapshot.
//  5. Serve reads whose [ReadState] index is now applied.
//  6. Call [RawNode.Advance]. The next Ready may only be taken after it.
//
// Applying (step 4) may overlap with sending. Sending may also overlap with
// the write of step 2 for messages that promise nothing about it, such as a
// leader's MsgApp and MsgHeartbeat (thesis §10.2.1: a leader with peers
// counts its own copy only once Advance says it is durable, so no commit
// index in those messages relies on the write in progress); but a vote
// (MsgVoteResp, MsgPreVoteResp) or an acknowledgement (MsgAppResp) must not
// leave before the write is durable. [Config.AsyncStorageWrites] makes
// that split for you.
// Entries and messages in a Ready may share memory with the node's log:
// do not modify them.
//
// [Node] delivers the same Ready on the channel returned by [Node.Ready];
// the application does steps 1 to 5 and then calls [Node.Advance], while
// a ticker goroutine calls [Node.Tick] and the transport calls
// [Node.Step]. Methods that take a context return ErrStopped once
// [Node.Stop] has been called.
//
// # Snapshots
//
// A leader whose followers need entries it has compacted sends a MsgSnap
// built from [Storage.Snapshot]: the Snapshot's metadata (index, term,
// ConfState) comes from raft, its Data is the application's. The
// follower's node receives it through Step and hands it back in a later
// Ready.Snapshot, to be persisted and restored from (step 1 above); the
// node then continues from the snapshot's index. The leader sends that
// follower no more entries until [RawNode.ReportSnapshot] tells it how the
// transfer went, so the transport must report failures as well as
// successes.
//
// # Asynchronous storage writes
//
// With [Config.AsyncStorageWrites], Ready does not wait for Advance, and
// Advance must not be called. Instead the storage work travels as local
// messages in Ready.Messages:
//
//   - a MsgStorageAppend addressed to [LocalAppendThread] carries what to
//     persist: Snapshot (persist it first), Entries, and the hard state
//     in its Term, Vote and Commit fields (a zero Term means the hard
//     state did not change);
//   - a MsgStorageApply addressed to [LocalApplyThread] carries committed
//     entries to apply. They are always already durable locally. Conf
//     changes among them go through [Node.ApplyConfChange], or through
//     [RawNode.ApplyConfChange] on the goroutine that drives the RawNode
//     (a RawNode is not safe for concurrent use).
//
// Each carries Responses. Once a MsgStorageAppend's writes are durable, or
// a MsgStorageApply's entries applied, deliver every one of its Responses
// to its To: messages to this node go to [RawNode.Step], the others to
// peers (they are the votes and acknowledgements that had to wait for the
// write). The ordering rules:
//
//   - MsgStorageAppend messages are carried out in the order they were
//     emitted, each after the previous one is durable, and their
//     Responses are delivered in that order;
//   - MsgStorageApply messages likewise, in their own order;
//   - the two streams are independent of each other, and of the other
//     messages, which may be sent at once;
//   - a snapshot in a MsgStorageAppend replaces the state machine before
//     any entry after it is applied.
//
// This lets a leader write its own log in parallel with replicating it
// (thesis §10.2.1) and pipelines appends with applies. A response that
// arrives after the node moved on (a newer leader overwrote the appended
// entries, say) is recognized by its term and entry ID and does no harm.
//
// # Membership
//
// Membership changes are proposed with [RawNode.ProposeConfChange] and
// take effect when applied with [RawNode.ApplyConfChange]. A
// raftpb.ConfChangeV2 with several changes uses joint consensus (thesis
// §4.3). Learners receive the log but do not count toward a quorum. A
// node refuses to campaign while a committed conf change is unapplied, so
// apply them promptly.
//
// # Reads
//
// [RawNode.ReadIndex] yields linearizable reads without writing to the
// log (thesis §6.4), confirmed either by a heartbeat round (ReadOnlySafe)
// or by the leader lease that CheckQuorum maintains (ReadOnlyLeaseBased).
package raft
