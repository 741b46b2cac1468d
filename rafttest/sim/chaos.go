package sim

import (
	"fmt"

	"github.com/seed901663da/raft/raftpb"
)

// startFault begins schedule entry i and returns a note for the trace.
func (s *Sim) startFault(i int) string {
	if s.healed {
		return ""
	}
	f := &s.sched[i]
	note := f.String()
	switch f.Kind {
	case fCompact:
		return note + s.compact(s.nodes[f.A], f.B)
	case fTransfer:
		return note + s.transfer(f.A)
	case fConf:
		return note + s.confChange(f.A, f.B)
	}
	s.active[i] = true
	s.lastDisrupt = s.now
	s.schedule(event{at: s.now + f.Dur, kind: evFaultEnd, arg: i})
	switch f.Kind {
	case fCrash:
		if f.B >= 2 {
			// Armed now, sprung by the next election or commit (see
			// trapLeader).
			s.active[i] = false
			s.trap[f.B-2] = i
			return note
		}
		if f.B == 1 {
			// Resolved now, and remembered for the restart.
			l := s.leader()
			if l == nil {
				s.active[i] = false
				return note + " (no leader)"
			}
			f.A = l.idx
			note += fmt.Sprintf(" (n%d)", l.id)
		}
		n := s.nodes[f.A]
		if n.down++; n.down == 1 && n.up {
			s.crash(n)
		}
	case fPartition:
		if f.A == splitIsolateLeader {
			l := s.leader()
			if l == nil {
				return note + " (no leader)"
			}
			for j := range s.net.group {
				s.net.group[j] = 0
			}
			s.net.group[l.idx] = 1
			note += fmt.Sprintf(" (n%d)", l.id)
		}
		s.applyNetFaults()
	default:
		s.applyNetFaults()
	}
	return note
}

// endFault reverts schedule entry i.
func (s *Sim) endFault(i int) string {
	for k := range s.trap {
		if s.trap[k] == i {
			s.trap[k] = -1 // not sprung while it was armed
			return ""
		}
	}
	if !s.active[i] {
		return ""
	}
	s.active[i] = false
	s.lastDisrupt = s.now
	f := &s.sched[i]
	if f.Kind == fCrash {
		n := s.nodes[f.A]
		if n.down--; n.down == 0 && !n.up {
			s.restart(n)
		}
		return "end " + f.String()
	}
	s.applyNetFaults()
	return "end " + f.String()
}

// applyNetFaults recomputes the network's state from the active faults.
// The newest active partition wins.
func (s *Sim) applyNetFaults() {
	nw := s.net
	nw.dropP, nw.dupP, nw.jitter, nw.reorder = 0, 0, 0, 0
	for j := range nw.cut {
		nw.cut[j] = 0
	}
	for j := range nw.slow {
		nw.slow[j] = 0
	}
	var part *FaultEvent
	for i := range s.sched {
		if !s.active[i] {
			continue
		}
		f := &s.sched[i]
		switch f.Kind {
		case fPartition:
			part = f
		case fOneWay:
			nw.cut[f.A*nw.n+f.B]++
		case fDrop:
			nw.dropP = max(nw.dropP, f.P)
		case fDup:
			nw.dupP = max(nw.dupP, f.P)
		case fReorder:
			nw.reorder++
			nw.jitter = max(nw.jitter, int64(f.P))
		case fSlow:
			nw.slow[f.A] = max(nw.slow[f.A], int64(f.P))
		}
	}
	if part == nil {
		nw.heal()
	} else if part.A != splitIsolateLeader {
		copy(nw.group, part.Sides)
	}
	// An isolate-leader partition keeps the groups startFault set.
}

// heal ends the chaos phase: every fault is removed and every node is up.
// The run then waits for a leader to commit a write.
func (s *Sim) heal() {
	s.healed = true
	for i := range s.active {
		s.active[i] = false
	}
	s.net.healAll()
	for _, n := range s.nodes {
		n.down = 0
		if !n.up {
			s.restart(n)
		}
	}
	deadline := s.now + healDeadline
	s.schedule(event{at: s.now + 2*electionTick*tickMS, kind: evMonitor, arg: 2})
	s.healDeadline = deadline
}

// compact snapshots n's state machine at its applied index and discards
// the log up to keep entries before it.
func (s *Sim) compact(n *node, keep int) string {
	if !n.up {
		return " (down)"
	}
	snap, _ := n.disk.ms.Snapshot()
	cur := snap.GetMetadata().GetIndex()
	// Only what the disk knows to be committed may go into a snapshot: a
	// restart must find its hard state's commit index at or past the
	// snapshot. Writing the snapshot syncs the disk, as a real one would.
	at := min(n.applied, n.disk.cur.GetCommit())
	if at <= cur || at != n.applied {
		return " (nothing new)"
	}
	if _, err := n.disk.ms.CreateSnapshot(at, n.conf, n.kv.encode()); err != nil {
		s.fail(KindHarness, "node %d: CreateSnapshot(%d): %v", n.id, at, err)
		return ""
	}
	n.disk.sync()
	to := at - uint64(min(keep, int(at-cur-1)))
	if to > cur {
		if err := n.disk.ms.Compact(to); err != nil {
			s.fail(KindHarness, "node %d: Compact(%d): %v", n.id, to, err)
			return ""
		}
	}
	return fmt.Sprintf(" snapshot@%d compact@%d", at, to)
}

// refreshSnapshots is the application's snapshot policy: a node that has
// compacted before takes a new snapshot (without compacting further) when
// its last one is far behind or predates a membership change. Without it
// a node removed and re-added after a compaction would be sent a snapshot
// whose configuration does not include it, which it must refuse, for ever.
func (s *Sim) refreshSnapshots() {
	for _, n := range s.nodes {
		if !n.up || n.conf == nil {
			continue
		}
		snap, _ := n.disk.ms.Snapshot()
		meta := snap.GetMetadata()
		cur := meta.GetIndex()
		at := min(n.applied, n.disk.cur.GetCommit())
		if cur == 0 || at <= cur || at != n.applied {
			continue
		}
		if at-cur < 50 && meta.GetConfState().Equivalent(n.conf) == nil {
			continue
		}
		if _, err := n.disk.ms.CreateSnapshot(at, n.conf, n.kv.encode()); err != nil {
			s.fail(KindHarness, "node %d: CreateSnapshot(%d): %v", n.id, at, err)
			return
		}
		n.disk.sync()
	}
}

// transfer asks the leader to hand over to a voter picked by choice.
func (s *Sim) transfer(choice int) string {
	l := s.leader()
	if l == nil || l.conf == nil || len(l.conf.Voters) == 0 {
		return " (no leader)"
	}
	to := l.conf.Voters[choice%len(l.conf.Voters)]
	s.lastDisrupt = s.now
	l.rn.TransferLeader(to)
	s.drain(l)
	return fmt.Sprintf(" n%d->n%d", l.id, to)
}

// confChange proposes a membership change to the leader, picked by a and
// b among those valid in its applied configuration.
func (s *Sim) confChange(a, b int) string {
	l := s.leader()
	if l == nil || l.conf == nil {
		return " (no leader)"
	}
	cs := l.conf
	voters := cs.Voters
	in := func(ids []uint64, id uint64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	var outside []uint64
	for _, n := range s.nodes {
		if !in(voters, n.id) && !in(cs.Learners, n.id) && !in(cs.VotersOutgoing, n.id) {
			outside = append(outside, n.id)
		}
	}
	var cc raftpb.ConfChangeI
	var desc string
	if len(cs.VotersOutgoing) > 0 {
		// Joint without auto-leave: leave it.
		cc, desc = &raftpb.ConfChangeV2{}, "leave-joint"
	} else {
		single := func(t raftpb.ConfChangeType, id uint64) *raftpb.ConfChangeSingle {
			return &raftpb.ConfChangeSingle{Type: t, NodeId: id}
		}
		var changes []*raftpb.ConfChangeSingle
		// Grow back toward the full cluster more often than shrinking
		// below a majority of it.
		switch k := a % 6; {
		case k == 0 && len(voters) > 2:
			changes = append(changes, single(raftpb.ConfChangeRemoveNode, voters[b%len(voters)]))
		case k == 1 && len(voters) > 2:
			changes = append(changes, single(raftpb.ConfChangeAddLearnerNode, voters[b%len(voters)]))
		case (k == 2 || k == 0) && len(outside) > 0:
			changes = append(changes, single(raftpb.ConfChangeAddLearnerNode, outside[b%len(outside)]))
		case (k == 3 || k == 1) && len(cs.Learners) > 0:
			changes = append(changes, single(raftpb.ConfChangeAddNode, cs.Learners[b%len(cs.Learners)]))
		case k == 4 && len(outside) > 0:
			changes = append(changes, single(raftpb.ConfChangeAddNode, outside[b%len(outside)]))
		default:
			// A joint change: swap a voter for a learner or outsider.
			cands := append(append([]uint64(nil), cs.Learners...), outside...)
			if len(cands) == 0 || len(voters) < 2 {
				return " (nothing to change)"
			}
			changes = append(changes,
				single(raftpb.ConfChangeAddLearnerNode, voters[b%len(voters)]),
				single(raftpb.ConfChangeAddNode, cands[(b/7)%len(cands)]))
		}
		tr := raftpb.ConfChangeTransitionAuto
		if len(changes) > 1 && b%2 == 0 {
			tr = raftpb.ConfChangeTransitionJointExplicit
		} else if len(changes) == 1 && b%5 == 0 {
			tr = raftpb.ConfChangeTransitionJointImplicit
		}
		cc = &raftpb.ConfChangeV2{Transition: tr, Changes: changes}
		desc = raftpb.ConfChangesToString(changes)
	}
	s.lastDisrupt = s.now
	err := l.rn.ProposeConfChange(cc)
	if s.noConfValidation {
		// Test hook: a second change right behind the first.
		_ = l.rn.ProposeConfChange(cc)
	}
	s.drain(l)
	if err != nil {
		return fmt.Sprintf(" %s at n%d: %v", desc, l.id, err)
	}
	return fmt.Sprintf(" %s at n%d", desc, l.id)
}
