package quorum

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MajorityConfig is a set of voter IDs whose decisions need the agreement of
// more than half of its members (Raft paper §5.2, §5.3). The empty set is a
// valid configuration that agrees with everything; see the package doc.
type MajorityConfig map[uint64]struct{}

// String lists the voters in ascending order, e.g. "(1 2 3)"; the empty
// configuration prints as "()".
func (c MajorityConfig) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range c.Slice() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	b.WriteByte(')')
	return b.String()
}

// Slice returns the voter IDs in ascending order, in a new slice the caller
// owns.
func (c MajorityConfig) Slice() []uint64 {
	ids := make([]uint64, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Clone returns a copy of c that shares no memory with it. The clone of a nil
// configuration is nil.
func (c MajorityConfig) Clone() MajorityConfig {
	if c == nil {
		return nil
	}
	out := make(MajorityConfig, len(c))
	for id := range c {
		out[id] = struct{}{}
	}
	return out
}

// quorumSize is the number of voters that make a majority of n voters.
func quorumSize(n int) int { return n/2 + 1 }

// stackVoters is the largest configuration whose acked indexes
// CommittedIndex sorts in an on-stack array. Real clusters have 3, 5 or 7
// voters, so this covers every configuration seen in practice.
const stackVoters = 7

// CommittedIndex returns the highest index that a majority of the voters have
// acknowledged, according to l. A voter l knows nothing about counts as
// having acknowledged index 0. The empty configuration returns
// math.MaxUint64 (∞), so that it never holds back a joint configuration.
//
// CommittedIndex does not allocate for configurations of up to seven voters.
func (c MajorityConfig) CommittedIndex(l AckedIndexer) Index {
	n := len(c)
	if n == 0 {
		return math.MaxUint64
	}
	// The leader calls this on every append acknowledgement, so a heap slice
	// per call would make garbage proportional to write throughput. A fixed
	// array that does not escape stays on the stack; only unusually large
	// configurations pay for an allocation.
	var onStack [stackVoters]Index
	var acked []Index
	if n <= len(onStack) {
		acked = onStack[:n]
	} else {
		acked = make([]Index, n)
	}
	i := 0
	for id := range c {
		if idx, ok := l.AckedIndex(id); ok {
			acked[i] = idx
		}
		i++
	}
	if n <= len(onStack) {
		// For a handful of elements insertion sort beats the general sort
		// and is obviously allocation free.
		insertionSort(acked)
	} else {
		slices.Sort(acked)
	}
	// acked is ascending. The q largest entries (q = quorum size) come from
	// q distinct voters, all of which acknowledged at least acked[n-q]; no
	// larger index has q acknowledgements, so this is the commit point.
	return acked[n-quorumSize(n)]
}

// insertionSort sorts s ascending in place.
func insertionSort(s []Index) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// VoteResult tallies votes (true = granted, false = rejected) cast by the
// voters; IDs outside the configuration are ignored and voters absent from
// votes have not answered yet. The result is VoteWon once a majority granted,
// VoteLost once a majority can no longer be reached even if every missing
// voter grants, and VotePending otherwise. The empty configuration returns
// VoteWon, for the same reason that its CommittedIndex is ∞.
func (c MajorityConfig) VoteResult(votes map[uint64]bool) VoteResult {
	if len(c) == 0 {
		return VoteWon
	}
	granted, missing := 0, 0
	for id := range c {
		v, ok := votes[id]
		switch {
		case !ok:
			missing++
		case v:
			granted++
		}
	}
	q := quorumSize(len(c))
	switch {
	case granted >= q:
		return VoteWon
	case granted+missing >= q:
		return VotePending
	}
	return VoteLost
}

// Describe renders one row per voter with its acknowledged index ("-" when
// l knows nothing about it), marking with * the voters whose acknowledgement
// covers the committed index, followed by a summary line. It is meant for
// test output and debugging, not for the hot path.
func (c MajorityConfig) Describe(l AckedIndexer) string {
	if len(c) == 0 {
		return "(no voters)\ncommitted=∞\n"
	}
	committed := c.CommittedIndex(l)
	t := table{header: []string{"voter", "acked", ""}}
	for _, id := range c.Slice() {
		idx, ok := l.AckedIndex(id)
		acked := "-"
		if ok {
			acked = idx.String()
		}
		mark := ""
		if idx >= committed { // idx is 0 when !ok, matching CommittedIndex
			mark = "*"
		}
		t.add(strconv.FormatUint(id, 10), acked, mark)
	}
	var b strings.Builder
	t.write(&b)
	fmt.Fprintf(&b, "committed=%s, quorum %d of %d (* = acked at or above committed)\n",
		committed, quorumSize(len(c)), len(c))
	return b.String()
}

// table renders right-aligned text columns for Describe.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write renders the header and the rows, columns separated by two spaces and
// trailing blanks trimmed.
func (t *table) write(b *strings.Builder) {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range append([][]string{t.header}, t.rows...) {
		var line strings.Builder
		for i, cell := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
			line.WriteString(cell)
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}
