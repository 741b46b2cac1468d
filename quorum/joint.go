package quorum

import (
	"fmt"
	"strconv"
	"strings"
)

// JointConfig is the configuration used during a membership change under
// joint consensus (Raft thesis §4.3). Index 0 holds the incoming voters,
// index 1 the outgoing ones. Every decision needs a majority of each half, so
// neither the old nor the new cluster can decide alone while the change is
// in flight. When no change is in progress the outgoing half is empty and
// the configuration behaves exactly like its incoming majority.
type JointConfig [2]MajorityConfig

// String prints the incoming majority, followed by "&&" and the outgoing
// majority when there is one: "(1 2 3)&&(1 2 4)" while joint, "(1 2 3)"
// otherwise.
func (c JointConfig) String() string {
	if len(c[1]) > 0 {
		return c[0].String() + "&&" + c[1].String()
	}
	return c[0].String()
}

// IDs returns the union of both halves in a new map the caller owns.
func (c JointConfig) IDs() map[uint64]struct{} {
	ids := make(map[uint64]struct{}, len(c[0])+len(c[1]))
	for _, half := range c {
		for id := range half {
			ids[id] = struct{}{}
		}
	}
	return ids
}

// Clone returns a copy of c that shares no memory with it.
func (c JointConfig) Clone() JointConfig {
	return JointConfig{c[0].Clone(), c[1].Clone()}
}

// CommittedIndex returns the highest index acknowledged by a majority of
// each half: the minimum of the halves' committed indexes. An empty half
// commits ∞ and so does not constrain the result; if both halves are empty
// the result is ∞ (math.MaxUint64). It does not allocate when each half has
// at most seven voters.
func (c JointConfig) CommittedIndex(l AckedIndexer) Index {
	return min(c[0].CommittedIndex(l), c[1].CommittedIndex(l))
}

// VoteResult combines the halves' results: won only if both halves won,
// lost as soon as either half lost, pending otherwise.
func (c JointConfig) VoteResult(votes map[uint64]bool) VoteResult {
	in, out := c[0].VoteResult(votes), c[1].VoteResult(votes)
	switch {
	case in == out:
		return in
	case in == VoteLost || out == VoteLost:
		return VoteLost
	}
	return VotePending
}

// Describe renders one row per voter of either half with its acknowledged
// index and the halves it belongs to, followed by how the committed index is
// derived. Outside a joint configuration it is the incoming half's Describe.
func (c JointConfig) Describe(l AckedIndexer) string {
	if len(c[1]) == 0 {
		return c[0].Describe(l)
	}
	all := MajorityConfig(c.IDs())
	t := table{header: []string{"voter", "acked", "incoming", "outgoing"}}
	for _, id := range all.Slice() {
		acked := "-"
		if idx, ok := l.AckedIndex(id); ok {
			acked = idx.String()
		}
		t.add(strconv.FormatUint(id, 10), acked, member(c[0], id), member(c[1], id))
	}
	var b strings.Builder
	t.write(&b)
	fmt.Fprintf(&b, "committed=min(incoming %s, outgoing %s)=%s\n",
		c[0].CommittedIndex(l), c[1].CommittedIndex(l), c.CommittedIndex(l))
	return b.String()
}

func member(c MajorityConfig, id uint64) string {
	if _, ok := c[id]; ok {
		return "x"
	}
	return ""
}
