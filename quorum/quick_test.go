package quorum

import (
	"math/rand/v2"
	"testing"
)

// quickCases is the number of random cases each differential test runs.
const quickCases = 20000

// randMajority returns a configuration of 0..9 voters drawn from IDs 1..12,
// so that the two halves of a joint configuration often overlap.
func randMajority(r *rand.Rand) MajorityConfig {
	c := MajorityConfig{}
	n := r.IntN(10)
	for len(c) < n {
		c[1+r.Uint64N(12)] = struct{}{}
	}
	return c
}

// randAcks acknowledges an index for most voters of c. Indexes come from a
// narrow range so that ties, which are where off-by-one bugs hide, are
// common; a stray ID outside the configuration checks that it is ignored.
func randAcks(r *rand.Rand, c JointConfig) MapAckIndexer {
	acks := MapAckIndexer{}
	for id := range c.IDs() {
		if r.IntN(5) > 0 {
			acks[id] = Index(r.Uint64N(20))
		}
	}
	acks[100] = Index(r.Uint64N(1000))
	return acks
}

// randVotes gives most voters a granted or rejected vote and leaves the rest
// missing; a stray voter outside the configuration must be ignored.
func randVotes(r *rand.Rand, c JointConfig) map[uint64]bool {
	votes := map[uint64]bool{100: r.IntN(2) == 0}
	for id := range c.IDs() {
		switch r.IntN(3) {
		case 0:
			votes[id] = true
		case 1:
			votes[id] = false
		}
	}
	return votes
}

func TestQuickCommittedIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range quickCases {
		var c JointConfig
		c[0] = randMajority(r)
		if i%2 == 1 { // half the cases are joint
			c[1] = randMajority(r)
		}
		acks := randAcks(r, c)
		want := naiveCommitted(c, acks)
		if got := c.CommittedIndex(acks); got != want {
			t.Fatalf("case %d: %s acks=%v: CommittedIndex=%s, naive model says %s",
				i, c, acks, got, want)
		}
		if c[1] == nil {
			if got := c[0].CommittedIndex(acks); got != want {
				t.Fatalf("case %d: majority %s acks=%v: CommittedIndex=%s, naive model says %s",
					i, c[0], acks, got, want)
			}
		}
	}
}

func TestQuickVoteResult(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[VoteResult]int{}
	for i := range quickCases {
		var c JointConfig
		c[0] = randMajority(r)
		if i%2 == 1 {
			c[1] = randMajority(r)
		}
		votes := randVotes(r, c)
		want := naiveVote(c, votes)
		seen[want]++
		if got := c.VoteResult(votes); got != want {
			t.Fatalf("case %d: %s votes=%v: VoteResult=%s, naive model says %s",
				i, c, votes, got, want)
		}
		if c[1] == nil {
			if got := c[0].VoteResult(votes); got != want {
				t.Fatalf("case %d: majority %s votes=%v: VoteResult=%s, naive model says %s",
					i, c[0], votes, got, want)
			}
		}
	}
	// The generator must exercise every outcome, or the comparison above
	// proves less than it seems to.
	for _, v := range []VoteResult{VotePending, VoteLost, VoteWon} {
		if seen[v] < quickCases/20 {
			t.Errorf("only %d of %d random cases produced %s", seen[v], quickCases, v)
		}
	}
}
