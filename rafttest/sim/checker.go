package sim

import (
	"fmt"

	"github.com/seed901663da/raft/raftpb"
)

// The kinds of violation a run can report.
const (
	KindElectionSafety     = "election-safety"
	KindLogMatching        = "log-matching"
	KindLeaderCompleteness = "leader-completeness"
	KindStateMachineSafety = "state-machine-safety"
	KindCommittedLost      = "committed-lost"
	KindDurableBackwards   = "durable-backwards"
	KindAppliedBeyond      = "applied-beyond-commit"
	KindPendingConfChange  = "pending-conf-change"
	KindCommitRule         = "leader-commit-rule"
	KindLinearizability    = "linearizability"
	KindLiveness           = "liveness"
	KindDeadlock           = "deadlock"
	KindPanic              = "panic"
	KindHarness            = "harness"
)

// Violation is the first broken property of a run.
type Violation struct {
	Kind string
	// Step and At are the event count and virtual time when it was found.
	Step int64
	At   int64
	// Detail says what exactly was wrong.
	Detail string
	// Tail is the end of the trace up to the violation, oldest first.
	Tail []string
}

func (v *Violation) String() string {
	return fmt.Sprintf("%s at step %d (t=%dms): %s", v.Kind, v.Step, v.At, v.Detail)
}

// entryID is an entry's term and the hash of the log up to and including
// it. Two logs with equal hashes at an index hold the same entries up to
// that index, with overwhelming probability; comparing hashes checks the
// Log Matching property (paper §5.3) in O(1) per entry.
//
// content hashes the entry alone, so that an applied entry can be checked
// against the committed one even when the checker no longer knows the
// node's log around it (a snapshot replaced it meanwhile).
type entryID struct{ term, hash, content uint64 }

// logView is what the checker knows of one node's log: the entry IDs of
// indexes base..base+len(ids)-1. ids[0] is the compaction point (a
// snapshot, or the empty index 0).
type logView struct {
	base uint64
	ids  []entryID
	// ccs are the indexes of conf change entries in the log, ascending.
	ccs []uint64
}

func (l *logView) last() uint64 { return l.base + uint64(len(l.ids)) - 1 }

func (l *logView) at(i uint64) (entryID, bool) {
	if i < l.base || i > l.last() {
		return entryID{}, false
	}
	return l.ids[i-l.base], true
}

func (l *logView) reset(base uint64, id entryID) {
	l.base = base
	l.ids = append(l.ids[:0], id)
	l.ccs = l.ccs[:0]
}

func mixHash(prev, content uint64) uint64 {
	h := (prev ^ 0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	h = (h ^ content) * 0x94d049bb133111eb
	return h ^ h>>29
}

func contentHash(e *raftpb.Entry) uint64 {
	h := uint64(0x2545f4914f6cdd1d)
	h = (h ^ e.Term) * 0xbf58476d1ce4e5b9
	h = (h ^ e.Index) * 0x94d049bb133111eb
	h = (h ^ uint64(e.Type)) * 0xbf58476d1ce4e5b9
	for _, c := range e.Data {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h ^ h>>31
}

func isConfChange(e *raftpb.Entry) bool {
	return e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2
}

// hardState is a comparable copy of raftpb.HardState.
type hardState struct{ term, vote, commit uint64 }

func hsOf(hs *raftpb.HardState) hardState {
	return hardState{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
}

// checker holds the global knowledge the invariants are checked
// against. Every check is incremental, so that it can run after every
// event: a run does O(1) work per entry written, committed or applied.
type checker struct {
	// leaders maps a term to the node that led in it (Election Safety).
	leaders map[uint64]uint64
	// seen[i] lists every distinct entry ID written at index i by any
	// node. An (index, term) pair must always come with the same hash.
	seen [][]entryID
	// committed[i] is the ID of the entry committed at index i, as
	// first reported by any node's commit index; committed[0] is the
	// empty prefix.
	committed []entryID
	// commitTerm[i] bounds from above the term in which entry i was
	// committed: the term of the first node to report it committed.
	// Leader Completeness only binds leaders of later terms; a leader may
	// learn of its election (delayed votes) after a later term committed
	// entries it lacks.
	commitTerm []uint64
	logs       []logView
	// written is each node's latest hard state (synced or not), durable
	// its latest synced one: the state a crash must preserve.
	written, durable []hardState
	// commit is each node's commit index as its Ready batches report it.
	commit []uint64

	fail func(kind, format string, args ...any)
}

func newChecker(nodes int, fail func(kind, format string, args ...any)) *checker {
	c := &checker{
		leaders:    make(map[uint64]uint64),
		seen:       make([][]entryID, 1, 1024),
		committed:  make([]entryID, 1, 1024),
		commitTerm: make([]uint64, 1, 1024),
		logs:       make([]logView, nodes),
		written:    make([]hardState, nodes),
		durable:    make([]hardState, nodes),
		commit:     make([]uint64, nodes),
		fail:       fail,
	}
	for i := range c.logs {
		c.logs[i].reset(0, entryID{})
	}
	return c
}

// lookup returns the hash of the entry written with (index, term), if
// any node wrote one.
func (c *checker) lookup(index, term uint64) (entryID, bool) {
	if index == 0 {
		return entryID{}, true
	}
	if index < uint64(len(c.seen)) {
		for _, id := range c.seen[index] {
			if id.term == term {
				return id, true
			}
		}
	}
	return entryID{}, false
}

func (c *checker) note(index uint64, id entryID) bool {
	for uint64(len(c.seen)) <= index {
		c.seen = append(c.seen, nil)
	}
	for _, s := range c.seen[index] {
		if s.term == id.term {
			return s.hash == id.hash && s.content == id.content
		}
	}
	c.seen[index] = append(c.seen[index], id)
	return true
}

// onEntries records entries node n appended to its log (handed out in a
// Ready). commit is n's commit index before these entries, applied its
// applied index, and leaderTerm n's term if it leads (else 0).
func (c *checker) onEntries(n int, ents []*raftpb.Entry, commit, applied, leaderTerm uint64) {
	l := &c.logs[n]
	for _, e := range ents {
		i := e.Index
		if i <= l.base {
			continue // behind the node's snapshot; the node ignores it too
		}
		if i > l.last()+1 {
			c.fail(KindHarness, "node %d appended index %d after a log ending at %d", n+1, i, l.last())
			return
		}
		prev := l.ids[i-1-l.base]
		ch := contentHash(e)
		id := entryID{e.Term, mixHash(prev.hash, ch), ch}
		if i <= l.last() && i <= commit && l.ids[i-l.base] != id {
			c.fail(KindCommittedLost, "node %d overwrote its committed entry %d (term %d) with term %d; commit=%d",
				n+1, i, l.ids[i-l.base].term, e.Term, commit)
			return
		}
		if !c.note(i, id) {
			c.fail(KindLogMatching, "node %d wrote entry %d term %d whose log prefix differs from another node's entry %d term %d",
				n+1, i, e.Term, i, e.Term)
			return
		}
		l.ids = append(l.ids[:i-l.base], id)
		for len(l.ccs) > 0 && l.ccs[len(l.ccs)-1] >= i {
			l.ccs = l.ccs[:len(l.ccs)-1]
		}
		if isConfChange(e) {
			if leaderTerm != 0 && e.Term == leaderTerm {
				// A leader appends a conf change only once every earlier
				// one is applied (thesis §4.1).
				for _, cc := range l.ccs {
					if cc > applied {
						c.fail(KindPendingConfChange, "leader %d appended conf change %d while conf change %d is not applied (applied=%d)",
							n+1, i, cc, applied)
						return
					}
				}
			}
			l.ccs = append(l.ccs, i)
		}
	}
}

// onSnapshot records that node n installed a snapshot: its log now
// starts after the snapshot's index.
func (c *checker) onSnapshot(n int, meta *raftpb.SnapshotMetadata) {
	idx, term := meta.GetIndex(), meta.GetTerm()
	id, ok := c.lookup(idx, term)
	if !ok {
		c.fail(KindStateMachineSafety, "node %d installed a snapshot at %d term %d that no node ever had in its log", n+1, idx, term)
		return
	}
	if idx < uint64(len(c.committed)) && c.committed[idx] != id {
		c.fail(KindStateMachineSafety, "node %d installed a snapshot at %d term %d, but the committed entry there has term %d",
			n+1, idx, term, c.committed[idx].term)
		return
	}
	c.logs[n].reset(idx, id)
}

// onHardState records a hard state node n wrote to its disk, synced or
// not: term and vote never go backwards, nor does the commit index.
func (c *checker) onHardState(n int, hs hardState, synced bool) {
	prev := c.written[n]
	switch {
	case hs.term < prev.term:
		c.fail(KindDurableBackwards, "node %d wrote term %d after term %d", n+1, hs.term, prev.term)
		return
	case hs.term == prev.term && prev.vote != 0 && hs.vote != prev.vote:
		c.fail(KindDurableBackwards, "node %d changed its vote in term %d from %d to %d", n+1, hs.term, prev.vote, hs.vote)
		return
	case hs.commit < prev.commit:
		c.fail(KindDurableBackwards, "node %d wrote commit %d after commit %d", n+1, hs.commit, prev.commit)
		return
	}
	c.written[n] = hs
	if synced {
		c.durable[n] = hs
	}
}

// onCommit checks the entries node n newly reports committed (a Ready's
// hard state) against the ones committed before: State Machine Safety
// (paper §5.4.3) at the level of the log.
func (c *checker) onCommit(n int, to, term uint64) {
	from := c.commit[n]
	if to <= from {
		return
	}
	c.commit[n] = to
	l := &c.logs[n]
	if to > l.last() {
		c.fail(KindHarness, "node %d reports commit %d beyond its log's last index %d", n+1, to, l.last())
		return
	}
	for i := max(from+1, l.base); i <= to; i++ {
		id := l.ids[i-l.base]
		if i < uint64(len(c.committed)) {
			if c.committed[i] == (entryID{}) {
				c.committed[i] = id // a gap left by a snapshot, see below
				continue
			}
			if c.committed[i] != id {
				c.fail(KindStateMachineSafety, "node %d commits entry %d term %d, but entry %d term %d was committed there before",
					n+1, i, id.term, i, c.committed[i].term)
				return
			}
			continue
		}
		if i > uint64(len(c.committed)) {
			// Committed through a snapshot beyond what anyone reported:
			// the gap is implied by the prefix hash.
			for uint64(len(c.committed)) < i {
				c.committed = append(c.committed, entryID{})
				c.commitTerm = append(c.commitTerm, term)
			}
		}
		c.committed = append(c.committed, id)
		c.commitTerm = append(c.commitTerm, term)
	}
}

// onLeaderCommit checks that a leader of term advanced its commit index
// to an entry of its own term: counting replicas of an entry of an
// earlier term does not make it committed (paper §5.4.2, Figure 8).
func (c *checker) onLeaderCommit(n int, commit, term uint64) {
	id, ok := c.logs[n].at(commit)
	if ok && id.term != term {
		c.fail(KindCommitRule, "leader %d of term %d advanced its commit index to %d, an entry of term %d",
			n+1, term, commit, id.term)
	}
}

// onLeader checks a node that just became leader of term: no other
// leader in the term (Election Safety, §5.2) and every committed entry
// in its log (Leader Completeness, §5.4).
func (c *checker) onLeader(n int, term uint64) {
	if other, ok := c.leaders[term]; ok && other != uint64(n+1) {
		c.fail(KindElectionSafety, "nodes %d and %d both lead term %d", other, n+1, term)
		return
	}
	c.leaders[term] = uint64(n + 1)
	cmax := uint64(len(c.committed)) - 1
	for cmax > 0 && (c.commitTerm[cmax] >= term || c.committed[cmax] == (entryID{})) {
		cmax--
	}
	if cmax == 0 {
		return
	}
	l := &c.logs[n]
	id, ok := l.at(cmax)
	if !ok || id != c.committed[cmax] {
		c.fail(KindLeaderCompleteness, "node %d leads term %d without committed entry %d (term %d); its log ends at %d",
			n+1, term, cmax, c.committed[cmax].term, l.last())
	}
}

// onApply checks that node n applies entry e next, committed, and the
// entry that was committed there.
func (c *checker) onApply(n int, e *raftpb.Entry, applied, commit uint64) {
	index := e.Index
	if index != applied+1 {
		c.fail(KindStateMachineSafety, "node %d applied entry %d after %d", n+1, index, applied)
		return
	}
	if index > commit {
		c.fail(KindAppliedBeyond, "node %d applied entry %d beyond its commit index %d", n+1, index, commit)
		return
	}
	if index >= uint64(len(c.committed)) || c.committed[index] == (entryID{}) {
		c.fail(KindStateMachineSafety, "node %d applied entry %d (term %d) that no node reported committed", n+1, index, e.Term)
		return
	}
	want := c.committed[index]
	if contentHash(e) != want.content {
		c.fail(KindStateMachineSafety, "node %d applied entry %d (term %d), but the committed entry there has term %d",
			n+1, index, e.Term, want.term)
		return
	}
	// Where the checker still knows the node's log, the whole prefix must
	// match as well. (With async storage writes, a snapshot may have
	// replaced the log while older committed entries wait to be applied.)
	if id, ok := c.logs[n].at(index); ok && id != want {
		c.fail(KindStateMachineSafety, "node %d applied entry %d whose log prefix differs from the committed one", n+1, index)
	}
}

// onRestart rebuilds node n's log view from what its disk kept, and
// checks that the disk kept every synced write.
func (c *checker) onRestart(n int, hs hardState, snap *raftpb.SnapshotMetadata, ents []*raftpb.Entry) {
	d := c.durable[n]
	if hs.term < d.term || (hs.term == d.term && hs.vote != d.vote) || hs.commit < d.commit {
		c.fail(KindDurableBackwards, "node %d restarted with term=%d vote=%d commit=%d, but synced term=%d vote=%d commit=%d",
			n+1, hs.term, hs.vote, hs.commit, d.term, d.vote, d.commit)
		return
	}
	idx, term := snap.GetIndex(), snap.GetTerm()
	id, _ := c.lookup(idx, term)
	l := &c.logs[n]
	l.reset(idx, id)
	c.written[n] = hs
	c.commit[n] = hs.commit
	c.onEntries(n, ents, 0, 0, 0)
}
