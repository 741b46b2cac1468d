package main

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear: every power-of-two range of
// nanoseconds [2^k, 2^(k+1)) is cut into subBuckets equal buckets, and the
// values below 2*subBuckets ns get one bucket each. A bucket is therefore at
// most 1/subBuckets of its lower bound wide, so any quantile read from the
// histogram is within 1/subBuckets (about 1.6%) of the exact sample quantile,
// whatever the spread of the samples, in a fixed 29 KiB per histogram.
const (
	subBits    = 6
	subBuckets = 1 << subBits
	// numBuckets covers every non-negative int64: the top power-of-two range
	// is [2^62, 2^63).
	numBuckets = (64 - subBits) * subBuckets
)

// histogram records latencies. The zero value is empty and ready to use. It
// is not safe for concurrent use: each client owns one, and they are merged
// once the run is over.
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

// bucketOf returns the index of the bucket holding v (v >= 0).
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	k := bits.Len64(v) - 1 // v is in [2^k, 2^(k+1)), k > subBits
	shift := k - subBits
	sub := int(v>>shift) - subBuckets // in [0, subBuckets)
	return (shift+1)*subBuckets + sub
}

// bucketBounds returns the smallest value in bucket i and the bucket's width;
// the bucket holds [lo, lo+width).
func bucketBounds(i int) (lo, width uint64) {
	if i < 2*subBuckets {
		return uint64(i), 1
	}
	shift := i/subBuckets - 1
	sub := uint64(i % subBuckets)
	return (subBuckets + sub) << shift, 1 << shift
}

// record adds one latency. Negative durations (a clock step) count as zero.
func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// count returns the number of recorded samples.
func (h *histogram) count() uint64 { return h.n }

// mean returns the average latency, or 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the q-quantile (0 <= q <= 1) by the nearest-rank rule:
// the sample of rank ceil(q*n) in ascending order (rank 1 for q = 0). The
// answer is the middle of the bucket holding that sample, clamped to the
// recorded min and max, so it is off by at most the bucket's width. An
// empty histogram returns 0.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := nearestRank(q, h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, width := bucketBounds(i)
			v := time.Duration(lo + (width-1)/2)
			return min(max(v, h.min), h.max)
		}
	}
	// seen reaches n, and rank <= n, so the loop always returns.
	panic("kvbench: histogram counts sum to less than n")
}

// nearestRank returns the 1-based rank of the q-quantile among n samples:
// ceil(q*n), at least 1 and at most n. The product is nudged down by a hair
// before rounding up, so that 0.99*100, which floating point makes
// 99.00000000000001, is rank 99 and not 100.
func nearestRank(q float64, n uint64) uint64 {
	if q <= 0 || math.IsNaN(q) {
		return 1
	}
	r := uint64(math.Ceil(q*float64(n) - 1e-9))
	return min(max(r, 1), n)
}
