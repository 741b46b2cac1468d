package progress

import (
	"slices"
	"strings"

	"github.com/seed901663da/raft/quorum"
	"github.com/seed901663da/raft/raftpb"
)

// Config is the cluster membership: who votes, who only learns, and the
// state of an ongoing joint-consensus change (thesis §4.3).
//
// Invariants (maintained by whoever builds the configuration):
//   - Learners is disjoint from both halves of Voters: a peer either votes
//     or learns.
//   - LearnersNext is a subset of the outgoing voters (Voters[1]) and
//     disjoint from the incoming ones. It holds outgoing voters that become
//     learners when the joint configuration is left; until then they must
//     keep voting in the outgoing half, so they cannot be in Learners yet.
//   - AutoLeave and a non-empty LearnersNext imply a joint configuration.
type Config struct {
	// Voters is the voting membership; Voters[1] is empty unless a joint
	// configuration is in effect.
	Voters quorum.JointConfig
	// AutoLeave asks the leader to propose leaving the joint configuration
	// as soon as entering it has been applied.
	AutoLeave bool
	// Learners receive the log but do not vote.
	Learners map[uint64]struct{}
	// LearnersNext are outgoing voters demoted to learners when the joint
	// configuration is left.
	LearnersNext map[uint64]struct{}
}

// String describes the configuration, e.g.
// "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave";
// empty learner sets and a false AutoLeave are left out.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("voters=")
	b.WriteString(c.Voters.String())
	if len(c.Learners) > 0 {
		b.WriteString(" learners=")
		b.WriteString(quorum.MajorityConfig(c.Learners).String())
	}
	if len(c.LearnersNext) > 0 {
		b.WriteString(" learners_next=")
		b.WriteString(quorum.MajorityConfig(c.LearnersNext).String())
	}
	if c.AutoLeave {
		b.WriteString(" autoleave")
	}
	return b.String()
}

// Clone returns a deep copy of c; nil sets stay nil.
func (c Config) Clone() Config {
	return Config{
		Voters:       c.Voters.Clone(),
		AutoLeave:    c.AutoLeave,
		Learners:     quorum.MajorityConfig(c.Learners).Clone(),
		LearnersNext: quorum.MajorityConfig(c.LearnersNext).Clone(),
	}
}

// Tracker is the leader's (and candidate's) bookkeeping about the cluster:
// the membership, the progress of every peer in it, and the votes of the
// current election.
//
// Invariant: Progress has an entry for exactly the voters (both halves),
// learners and learners-next of Config, and Progress[id].IsLearner is true
// exactly for Learners.
type Tracker struct {
	Config

	// Progress holds one entry per peer in Config.
	Progress ProgressMap

	// Votes holds the vote of each peer that answered in the current
	// election (true = granted). See RecordVote.
	Votes map[uint64]bool

	// MaxInflight and MaxInflightBytes size the Inflights of new peers;
	// MaxInflightBytes 0 means no byte limit.
	MaxInflight      int
	MaxInflightBytes uint64
}

// MakeTracker returns a tracker with no peers, with every map initialised,
// whose peers will get inflight windows of maxInflight messages and maxBytes
// payload bytes (0 = unlimited).
func MakeTracker(maxInflight int, maxBytes uint64) Tracker {
	return Tracker{
		Config: Config{
			Voters:       quorum.JointConfig{quorum.MajorityConfig{}, quorum.MajorityConfig{}},
			Learners:     map[uint64]struct{}{},
			LearnersNext: map[uint64]struct{}{},
		},
		Progress:         ProgressMap{},
		Votes:            map[uint64]bool{},
		MaxInflight:      maxInflight,
		MaxInflightBytes: maxBytes,
	}
}

// ConfState returns the configuration in its wire form, with every ID list
// sorted ascending and nil when empty.
func (t *Tracker) ConfState() *raftpb.ConfState {
	return &raftpb.ConfState{
		Voters:         sortedIDs(t.Voters[0]),
		VotersOutgoing: sortedIDs(t.Voters[1]),
		Learners:       sortedIDs(t.Learners),
		LearnersNext:   sortedIDs(t.LearnersNext),
		AutoLeave:      t.AutoLeave,
	}
}

// sortedIDs returns the set's members ascending, or nil for an empty set.
func sortedIDs[S ~map[uint64]struct{}](s S) []uint64 {
	if len(s) == 0 {
		return nil
	}
	return quorum.MajorityConfig(s).Slice()
}

// IsSingleton reports whether the cluster has exactly one voter and no
// configuration change in progress, in which case that voter can commit and
// win elections on its own.
func (t *Tracker) IsSingleton() bool {
	return len(t.Voters[0]) == 1 && len(t.Voters[1]) == 0
}

// matchAcks exposes each peer's Match to the quorum math. Being a map type,
// it converts to quorum.AckedIndexer without allocating.
type matchAcks ProgressMap

// AckedIndex implements quorum.AckedIndexer.
func (m matchAcks) AckedIndex(id uint64) (quorum.Index, bool) {
	pr, ok := m[id]
	if !ok {
		return 0, false
	}
	return quorum.Index(pr.Match), true
}

// Committed returns the highest index replicated on a quorum of the voters,
// counting each voter's Match (paper §5.3; the caller still checks the
// entry's term, §5.4.2). With no voters at all it returns math.MaxUint64,
// which the caller must not treat as a real index. It does not allocate for
// up to seven voters per half.
func (t *Tracker) Committed() uint64 {
	return uint64(t.Voters.CommittedIndex(matchAcks(t.Progress)))
}

// visitOnStack is the number of peers Visit sorts without allocating.
const visitOnStack = 7

// Visit calls f for every peer, in ascending ID order so that everything
// the leader does per peer (and so its output) is deterministic. f may
// modify the Progress it is given but must not add peers; a peer removed
// by f before its turn is skipped. Visit does not allocate for up to seven
// peers.
func (t *Tracker) Visit(f func(id uint64, pr *Progress)) {
	// Visit runs for every broadcast, so the ID list lives in an on-stack
	// array for realistic cluster sizes instead of a fresh heap slice.
	var onStack [visitOnStack]uint64
	ids := onStack[:0]
	if len(t.Progress) > len(onStack) {
		ids = make([]uint64, 0, len(t.Progress))
	}
	for id := range t.Progress {
		ids = append(ids, id)
	}
	slices.Sort(ids) // does not allocate; insertion sort for short slices
	for _, id := range ids {
		if pr, ok := t.Progress[id]; ok {
			f(id, pr)
		}
	}
}

// QuorumActive reports whether a quorum of the voters (in each half of a
// joint configuration) was recently active, counting RecentActive as a
// granted vote. A leader that cannot say so steps down under check-quorum
// (thesis §6.2). Learners never count.
func (t *Tracker) QuorumActive() bool {
	votes := make(map[uint64]bool, len(t.Progress))
	for id, pr := range t.Progress {
		if !pr.IsLearner {
			votes[id] = pr.RecentActive
		}
	}
	return t.Voters.VoteResult(votes) == quorum.VoteWon
}

// VoterNodes returns the voters of both halves, ascending, in a new slice
// (nil if there are none).
func (t *Tracker) VoterNodes() []uint64 {
	return sortedIDs(t.Voters.IDs())
}

// LearnerNodes returns the learners, ascending, in a new slice (nil if
// there are none). Learners-next are not included: they still vote.
func (t *Tracker) LearnerNodes() []uint64 {
	return sortedIDs(t.Learners)
}

// ResetVotes forgets all votes, to start a new election.
func (t *Tracker) ResetVotes() {
	if t.Votes == nil {
		t.Votes = map[uint64]bool{}
		return
	}
	clear(t.Votes)
}

// RecordVote records that id granted (v = true) or rejected the vote. Only
// the first answer of each peer counts: a peer votes at most once per term
// (paper §5.2), so a later different answer can only be a duplicate or a
// reordered message and is ignored.
func (t *Tracker) RecordVote(id uint64, v bool) {
	if _, ok := t.Votes[id]; !ok {
		t.Votes[id] = v
	}
}

// TallyVotes counts the granted and rejected votes of current voters (votes
// of non-voters are recorded but ignored) and returns the election outcome
// under the current, possibly joint, configuration.
func (t *Tracker) TallyVotes() (granted, rejected int, result quorum.VoteResult) {
	for id, v := range t.Votes {
		if !t.isVoter(id) {
			continue
		}
		if v {
			granted++
		} else {
			rejected++
		}
	}
	return granted, rejected, t.Voters.VoteResult(t.Votes)
}

func (t *Tracker) isVoter(id uint64) bool {
	_, in := t.Voters[0][id]
	_, out := t.Voters[1][id]
	return in || out
}
