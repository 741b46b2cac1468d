package sim

import (
	"math"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// node is one simulated server: a RawNode, its disk, and the application
// around it (the key-value state machine and the clients' pending
// requests).
type node struct {
	idx int
	id  uint64
	up  bool
	// inc counts restarts; events of earlier incarnations are ignored.
	inc  uint32
	rn   *raft.RawNode
	disk *disk
	// down counts the crash faults in force on the node.
	down int

	kv      kvState
	applied uint64
	// conf is the configuration as of applied.
	conf *raftpb.ConfState
	// tickEvery is the node's clock period in ms (skew).
	tickEvery int64

	// appendQ and applyQ are the work queued for the storage threads
	// (AsyncStorageWrites only), oldest first.
	appendQ, applyQ []*raftpb.Message
	// snapFailed are peers whose MsgSnap the network lost during the
	// current Ready, to report after it.
	snapFailed []uint64
	// unreachable are peers a message to which the network refused
	// during the current Ready, to report after it.
	unreachable []uint64
	// draining guards against re-entering drain.
	draining bool
}

func (s *Sim) newConfig(n *node, applied uint64) *raft.Config {
	ro := raft.ReadOnlySafe
	if s.lease {
		ro = raft.ReadOnlyLeaseBased
	}
	return &raft.Config{
		ID:                n.id,
		ElectionTick:      electionTick,
		HeartbeatTick:     heartbeatTick,
		Storage:           n.disk.ms,
		Applied:           applied,
		MaxSizePerMsg:     s.maxMsgSize,
		MaxInflightMsgs:   s.maxInflight,
		CheckQuorum:       s.checkQuorum,
		PreVote:           s.preVote,
		ReadOnlyOption:    ro,
		StepDownOnRemoval: s.stepDownOnRemoval,

		DisableConfChangeValidation: s.noConfValidation,
		AsyncStorageWrites:          s.async,
		Logger:                      s.o.Logger,
		// Each incarnation draws its own timeouts, from the seed.
		Rand: newRNG(s.o.Seed, 1000+n.id*1_000_003+uint64(n.inc)),
	}
}

func (s *Sim) boot(n *node, peers []raft.Peer) {
	rn, err := raft.NewRawNode(s.newConfig(n, 0))
	if err != nil {
		s.fail(KindHarness, "node %d: %v", n.id, err)
		return
	}
	if err := rn.Bootstrap(peers); err != nil {
		s.fail(KindHarness, "node %d: bootstrap: %v", n.id, err)
		return
	}
	n.rn, n.up = rn, true
	s.schedule(event{at: s.now + s.rNode.between(1, n.tickEvery), kind: evTick, node: n.idx, inc: n.inc})
	s.drain(n)
}

// crash stops n, losing everything it had not synced.
func (s *Sim) crash(n *node) {
	n.up = false
	n.inc++
	n.rn = nil
	n.appendQ, n.applyQ, n.snapFailed, n.unreachable = nil, nil, nil, nil
	n.disk.crash()
	s.tr.note(s.steps, s.now, n.id, "crash")
}

// restart brings n back from what its disk kept: the state machine from
// the latest snapshot, the log and hard state from storage.
func (s *Sim) restart(n *node) {
	ms := n.disk.ms
	hs, _, _ := ms.InitialState()
	snap, _ := ms.Snapshot()
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	ents, err := ms.Entries(first, last+1, math.MaxUint64)
	if err != nil {
		s.fail(KindHarness, "node %d: reading disk: %v", n.id, err)
		return
	}
	if s.skipDurableCheck {
		s.chk.durable[n.idx] = hsOf(hs)
	}
	s.chk.onRestart(n.idx, hsOf(hs), snap.GetMetadata(), ents)
	if !s.restoreSnapshot(n, snap) {
		return
	}
	rn, err := raft.NewRawNode(s.newConfig(n, n.applied))
	if err != nil {
		s.fail(KindHarness, "node %d: restart: %v", n.id, err)
		return
	}
	n.rn, n.up = rn, true
	s.tr.note(s.steps, s.now, n.id, "restart")
	s.schedule(event{at: s.now + s.rNode.between(1, n.tickEvery), kind: evTick, node: n.idx, inc: n.inc})
	s.drain(n)
}

// drain handles n's Ready batches until it has none.
func (s *Sim) drain(n *node) {
	if n.draining {
		return
	}
	n.draining = true
	defer func() { n.draining = false }()
	for n.up && s.viol == nil && n.rn.HasReady() {
		rd := n.rn.Ready()
		if s.async {
			s.readyAsync(n, &rd)
		} else {
			s.readySync(n, &rd)
		}
		for len(n.snapFailed) > 0 && n.up {
			to := n.snapFailed[0]
			n.snapFailed = n.snapFailed[1:]
			n.rn.ReportSnapshot(to, raft.SnapshotFailure)
		}
		for len(n.unreachable) > 0 && n.up {
			to := n.unreachable[0]
			n.unreachable = n.unreachable[1:]
			n.rn.ReportUnreachable(to)
		}
	}
}

// observe feeds the checker what a Ready says about the node's
// in-memory state: new log entries, commit index, leadership.
func (s *Sim) observe(n *node, rd *raft.Ready) {
	if rd.Snapshot != nil {
		s.chk.onSnapshot(n.idx, rd.Snapshot.GetMetadata())
		s.chk.commit[n.idx] = max(s.chk.commit[n.idx], rd.Snapshot.GetMetadata().GetIndex())
	}
	if len(rd.Entries) > 0 {
		var leaderTerm uint64
		st := n.rn.BasicStatus()
		if st.RaftState == raft.StateLeader {
			leaderTerm = st.Term
		}
		s.chk.onEntries(n.idx, rd.Entries, s.chk.commit[n.idx], st.Applied, leaderTerm)
	}
	if rd.HardState != nil {
		if rd.SoftState == nil && rd.HardState.Commit > s.chk.commit[n.idx] {
			// (A Ready that makes a node leader may also carry a commit
			// index it learned as a follower.)
			if st := n.rn.BasicStatus(); st.RaftState == raft.StateLeader {
				s.chk.onLeaderCommit(n.idx, rd.HardState.Commit, st.Term)
			}
		}
		s.chk.onCommit(n.idx, rd.HardState.GetCommit(), rd.HardState.GetTerm())
		if c := rd.HardState.GetCommit(); c > s.commitMax {
			s.commitMax = c
			s.lastProgress = s.now
		}
	}
	if rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader {
		term := n.rn.BasicStatus().Term
		s.chk.onLeader(n.idx, term)
		s.tr.note(s.steps, s.now, n.id, "leader")
	}
}

func (s *Sim) readySync(n *node, rd *raft.Ready) {
	prevCommit := s.chk.commit[n.idx]
	s.observe(n, rd)
	if s.viol != nil {
		return
	}
	sync := rd.MustSync || rd.Snapshot != nil
	if err := n.disk.write(rd.HardState, rd.Entries, rd.Snapshot, sync); err != nil {
		s.fail(KindHarness, "node %d: disk: %v", n.id, err)
		return
	}
	if rd.Snapshot != nil {
		s.restoreSnapshot(n, rd.Snapshot)
	}
	if rd.HardState != nil {
		s.chk.onHardState(n.idx, hsOf(rd.HardState), sync)
	}
	if s.trapLeader(n, rd, prevCommit) {
		return
	}
	for _, m := range rd.Messages {
		s.send(n, m)
	}
	for _, e := range rd.CommittedEntries {
		s.apply(n, e)
		if s.viol != nil {
			return
		}
	}
	for _, rs := range rd.ReadStates {
		s.onReadState(n, rs)
	}
	n.rn.Advance(*rd)
	s.serveReads(n)
}

func (s *Sim) readyAsync(n *node, rd *raft.Ready) {
	prevCommit := s.chk.commit[n.idx]
	s.observe(n, rd)
	if s.viol != nil || s.trapLeader(n, rd, prevCommit) {
		return
	}
	for _, m := range rd.Messages {
		switch m.To {
		case raft.LocalAppendThread:
			if len(n.appendQ) == 0 {
				s.schedule(event{at: s.now + s.rNode.between(0, 3), kind: evAppend, node: n.idx, inc: n.inc})
			}
			n.appendQ = append(n.appendQ, m)
		case raft.LocalApplyThread:
			if len(n.applyQ) == 0 {
				s.schedule(event{at: s.now + s.rNode.between(0, 3), kind: evApply, node: n.idx, inc: n.inc})
			}
			n.applyQ = append(n.applyQ, m)
		default:
			s.send(n, m)
		}
	}
	for _, rs := range rd.ReadStates {
		s.onReadState(n, rs)
	}
	s.serveReads(n)
}

// trapLeader springs an armed crash on n if rd made it leader, or
// advanced its commit index as leader: n goes down before it has sent
// anything of this Ready.
func (s *Sim) trapLeader(n *node, rd *raft.Ready, prevCommit uint64) bool {
	if s.healed {
		return false
	}
	k := -1
	if s.trap[0] >= 0 && rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader {
		k = 0
	} else if s.trap[1] >= 0 && rd.HardState != nil && n.rn.BasicStatus().RaftState == raft.StateLeader &&
		rd.HardState.Commit > prevCommit {
		k = 1
	}
	if k < 0 {
		return false
	}
	i := s.trap[k]
	s.trap[k] = -1
	f := &s.sched[i]
	f.A = n.idx
	s.active[i] = true
	s.lastDisrupt = s.now
	n.down++
	s.crash(n)
	s.tr.note(s.steps, s.now, n.id, [...]string{"trap: crashed as it became leader", "trap: crashed as it advanced its commit index"}[k])
	return true
}

// doAppend performs the oldest queued write of n's append thread, then
// delivers the responses it carries.
func (s *Sim) doAppend(n *node) {
	m := n.appendQ[0]
	n.appendQ = n.appendQ[1:]
	if len(n.appendQ) > 0 {
		s.schedule(event{at: s.now + s.rNode.between(0, 3), kind: evAppend, node: n.idx, inc: n.inc})
	}
	var hs *raftpb.HardState
	if m.Term != 0 {
		hs = &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
	}
	if err := n.disk.write(hs, m.Entries, m.Snapshot, true); err != nil {
		s.fail(KindHarness, "node %d: disk: %v", n.id, err)
		return
	}
	if m.Snapshot != nil {
		s.restoreSnapshot(n, m.Snapshot)
	}
	if hs != nil {
		s.chk.onHardState(n.idx, hsOf(hs), true)
	}
	s.responses(n, m.Responses)
}

// doApply performs the oldest queued apply of n's apply thread.
func (s *Sim) doApply(n *node) {
	m := n.applyQ[0]
	n.applyQ = n.applyQ[1:]
	if len(n.applyQ) > 0 {
		s.schedule(event{at: s.now + s.rNode.between(0, 3), kind: evApply, node: n.idx, inc: n.inc})
	}
	for _, e := range m.Entries {
		if e.Index <= n.applied {
			continue // covered by a snapshot the append thread installed
		}
		s.apply(n, e)
		if s.viol != nil {
			return
		}
	}
	s.serveReads(n)
	s.responses(n, m.Responses)
}

func (s *Sim) responses(n *node, resps []*raftpb.Message) {
	for _, r := range resps {
		if r.To == n.id {
			_ = n.rn.Step(r)
		} else {
			s.send(n, r)
		}
	}
	s.drain(n)
}

// restoreSnapshot replaces n's state machine with a snapshot's, and reports
// whether the snapshot's data decoded (if not, it records a violation).
func (s *Sim) restoreSnapshot(n *node, snap *raftpb.Snapshot) bool {
	kv, err := decodeKV(snap.GetData())
	if err != nil {
		s.fail(KindHarness, "node %d: %v", n.id, err)
		return false
	}
	n.kv = kv
	n.applied = snap.GetMetadata().GetIndex()
	n.conf = snap.GetMetadata().GetConfState()
	return true
}

// apply applies one committed entry to n's state machine.
func (s *Sim) apply(n *node, e *raftpb.Entry) {
	s.chk.onApply(n.idx, e, n.applied, n.rn.BasicStatus().Commit)
	if s.viol != nil {
		return
	}
	n.applied = e.Index
	switch e.Type {
	case raftpb.EntryNormal:
		if len(e.Data) == 0 {
			return
		}
		c, err := decodeCmd(e.Data)
		if err != nil {
			s.fail(KindHarness, "node %d: entry %d: %v", n.id, e.Index, err)
			return
		}
		if n.kv.apply(c) {
			s.onApplied(n, c)
		}
	default:
		cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
		if err != nil {
			s.fail(KindHarness, "node %d: entry %d: %v", n.id, e.Index, err)
			return
		}
		if cs, err := n.rn.ApplyConfChange(cc); err == nil {
			n.conf = cs
			s.handOffIfRemoved(n)
		}
	}
}

// handOffIfRemoved is the application's answer to a leader that was
// removed from the configuration while Config.StepDownOnRemoval is off:
// such a leader keeps heartbeating, so no one else will campaign, but it
// refuses proposals. An operator (etcd's server, say) hands leadership on.
func (s *Sim) handOffIfRemoved(n *node) {
	if s.stepDownOnRemoval || n.conf == nil || len(n.conf.Voters) == 0 || n.rn.BasicStatus().RaftState != raft.StateLeader {
		return
	}
	for _, set := range [][]uint64{n.conf.Voters, n.conf.VotersOutgoing, n.conf.Learners} {
		for _, id := range set {
			if id == n.id {
				return
			}
		}
	}
	n.rn.TransferLeader(n.conf.Voters[0])
}

func cloneMsg(m *raftpb.Message) *raftpb.Message {
	c := &raftpb.Message{
		Type: m.Type, To: m.To, From: m.From, Term: m.Term, LogTerm: m.LogTerm,
		Index: m.Index, Commit: m.Commit, Vote: m.Vote, Snapshot: m.Snapshot,
		Reject: m.Reject, RejectHint: m.RejectHint, Context: m.Context, Epoch: m.Epoch,
	}
	if len(m.Entries) > 0 {
		c.Entries = make([]*raftpb.Entry, len(m.Entries))
		for i, e := range m.Entries {
			c.Entries[i] = &raftpb.Entry{Term: e.Term, Index: e.Index, Type: e.Type, Data: e.Data}
		}
	}
	return c
}
