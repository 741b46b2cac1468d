package sim

// rng is a SplitMix64 generator. Each concern (network, client, faults)
// draws from its own stream, derived from the seed, so that removing a
// fault while shrinking does not reshuffle every other random choice
// before it.
type rng struct{ state uint64 }

func newRNG(seed, stream uint64) *rng {
	r := &rng{state: seed ^ (stream * 0xd1342543de82ef95)}
	r.next() // decorrelate nearby seeds
	return r
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64 makes rng a raft.RandSource.
func (r *rng) Uint64() uint64 { return r.next() }

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// int63n returns a number in [0, n); n must be positive.
func (r *rng) int63n(n int64) int64 { return int64(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + r.int63n(hi-lo+1) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool {
	return float64(r.next()>>11)/(1<<53) < p
}
