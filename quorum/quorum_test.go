package quorum

import (
	"maps"
	"math"
	"slices"
	"testing"
)

func TestIndexString(t *testing.T) {
	for idx, want := range map[Index]string{0: "0", 42: "42", math.MaxUint64 - 1: "18446744073709551614", math.MaxUint64: "∞"} {
		if got := idx.String(); got != want {
			t.Errorf("Index(%d).String() = %q, want %q", uint64(idx), got, want)
		}
	}
}

func TestVoteResultString(t *testing.T) {
	for v, want := range map[VoteResult]string{0: "VoteResult(0)", VotePending: "VotePending", VoteLost: "VoteLost", VoteWon: "VoteWon"} {
		if got := v.String(); got != want {
			t.Errorf("VoteResult(%d).String() = %q, want %q", uint8(v), got, want)
		}
	}
	if VotePending != 1 {
		t.Errorf("VotePending = %d, want 1 so that the zero value is invalid", VotePending)
	}
}

func majority(ids ...uint64) MajorityConfig {
	c := MajorityConfig{}
	for _, id := range ids {
		c[id] = struct{}{}
	}
	return c
}

func TestConfigStrings(t *testing.T) {
	for _, tc := range []struct {
		c    JointConfig
		want string
	}{
		{JointConfig{}, "()"},
		{JointConfig{majority(3, 1, 2)}, "(1 2 3)"},
		{JointConfig{majority(3, 1, 2), MajorityConfig{}}, "(1 2 3)"},
		{JointConfig{majority(3, 1, 2), majority(4, 2, 1)}, "(1 2 3)&&(1 2 4)"},
		{JointConfig{nil, majority(10, 2)}, "()&&(2 10)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := majority(12, 3, 7).Slice(); !slices.Equal(got, []uint64{3, 7, 12}) {
		t.Errorf("Slice() = %v, want sorted [3 7 12]", got)
	}
	if got := MajorityConfig(nil).Slice(); len(got) != 0 {
		t.Errorf("nil Slice() = %v, want empty", got)
	}
}

func TestJointIDsAndClone(t *testing.T) {
	c := JointConfig{majority(1, 2, 3), majority(2, 3, 4)}
	ids := c.IDs()
	if got := slices.Sorted(maps.Keys(ids)); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("IDs() = %v, want union [1 2 3 4]", got)
	}
	ids[99] = struct{}{}
	if _, ok := c[0][99]; ok {
		t.Error("IDs() aliases the configuration")
	}

	cl := c.Clone()
	cl[0][5] = struct{}{}
	delete(cl[1], 4)
	if c.String() != "(1 2 3)&&(2 3 4)" || cl.String() != "(1 2 3 5)&&(2 3)" {
		t.Errorf("Clone shares memory: original %s, clone %s", c, cl)
	}
	if cl := (JointConfig{}).Clone(); cl[0] != nil || cl[1] != nil {
		t.Error("clone of nil halves is not nil")
	}
}

// TestCommittedIndexNoAlloc pins down the promise that the hot path does not
// allocate for realistic cluster sizes, for plain and joint configurations.
func TestCommittedIndexNoAlloc(t *testing.T) {
	for n := 1; n <= stackVoters; n++ {
		var c JointConfig
		c[0], c[1] = MajorityConfig{}, MajorityConfig{}
		acks := MapAckIndexer{}
		for id := uint64(1); id <= uint64(n); id++ {
			c[0][id] = struct{}{}
			c[1][id+1] = struct{}{} // overlapping but different halves
			acks[id] = Index(100 - id)
		}
		var l AckedIndexer = acks
		var sink Index
		if a := testing.AllocsPerRun(100, func() { sink = c[0].CommittedIndex(l) }); a != 0 {
			t.Errorf("MajorityConfig.CommittedIndex with %d voters: %v allocs, want 0", n, a)
		}
		if a := testing.AllocsPerRun(100, func() { sink = c.CommittedIndex(l) }); a != 0 {
			t.Errorf("JointConfig.CommittedIndex with %d+%d voters: %v allocs, want 0", n, n, a)
		}
		_ = sink
	}
}

func TestDescribeEmptyOutgoing(t *testing.T) {
	acks := MapAckIndexer{1: 5, 2: 6}
	c := majority(1, 2)
	if a, b := (JointConfig{c, nil}).Describe(acks), c.Describe(acks); a != b {
		t.Errorf("joint Describe with empty outgoing half differs from majority:\n%s\nvs\n%s", a, b)
	}
}
