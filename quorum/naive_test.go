package quorum

import "math"

// This file holds a deliberately naive model of the quorum rules, written
// straight from their definitions with no cleverness, against which the real
// implementation is compared (quick_test.go, datadriven_test.go).

// naiveCommitted tries every candidate index and keeps the highest one that
// each non-empty half has a strict majority of acknowledgements for. A voter
// without an acknowledgement counts as having acked 0. If no half constrains
// the result, it is ∞.
func naiveCommitted(c JointConfig, acks map[uint64]Index) Index {
	candidates := []Index{0, math.MaxUint64}
	for _, idx := range acks {
		candidates = append(candidates, idx)
	}
	best := Index(0)
	for _, cand := range candidates {
		ok := true
		for _, half := range c {
			if len(half) == 0 {
				continue
			}
			count := 0
			for id := range half {
				if acks[id] >= cand {
					count++
				}
			}
			if 2*count <= len(half) {
				ok = false
			}
		}
		if ok && cand > best {
			best = cand
		}
	}
	return best
}

// naiveVote enumerates every way the voters that have not answered could
// still vote. If all of those outcomes win, the election is won; if none
// does, it is lost; otherwise it is pending. An outcome wins if every
// non-empty half has a strict majority of grants.
func naiveVote(c JointConfig, votes map[uint64]bool) VoteResult {
	var missing []uint64
	for id := range c.IDs() {
		if _, ok := votes[id]; !ok {
			missing = append(missing, id)
		}
	}
	wins, outcomes := 0, 1<<len(missing)
	for mask := 0; mask < outcomes; mask++ {
		complete := make(map[uint64]bool, len(votes)+len(missing))
		for id, v := range votes {
			complete[id] = v
		}
		for i, id := range missing {
			complete[id] = mask&(1<<i) != 0
		}
		if naiveWins(c, complete) {
			wins++
		}
	}
	switch wins {
	case outcomes:
		return VoteWon
	case 0:
		return VoteLost
	}
	return VotePending
}

func naiveWins(c JointConfig, votes map[uint64]bool) bool {
	for _, half := range c {
		if len(half) == 0 {
			continue
		}
		granted := 0
		for id := range half {
			if votes[id] {
				granted++
			}
		}
		if 2*granted <= len(half) {
			return false
		}
	}
	return true
}
