package raft

// splitMix is the default RandSource: SplitMix64 (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", 2014). It is tiny, fast
// and has no global state; it is seeded from the node ID so that the nodes
// of one cluster draw different timeouts while every run stays reproducible.
type splitMix struct{ state uint64 }

func newSplitMix(seed uint64) *splitMix {
	return &splitMix{state: seed}
}

func (s *splitMix) Uint64() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n) drawn from src; n must be positive.
// Modulo bias is irrelevant at election-timeout sizes.
func intn(src RandSource, n int) int {
	return int(src.Uint64() % uint64(n))
}
