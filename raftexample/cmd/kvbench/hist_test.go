package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the reference the histogram is checked against: the
// nearest-rank quantile of the sorted samples.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[nearestRank(q, uint64(len(sorted)))-1]
}

func TestNearestRank(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		n    uint64
		want uint64
	}{
		{0, 10, 1},
		{-1, 10, 1},
		{math.NaN(), 10, 1},
		{0.5, 10, 5},
		{0.5, 11, 6},
		{0.99, 100, 99}, // 0.99*100 is 99.00000000000001 in float64
		{0.999, 1000, 999},
		{0.999, 10, 10},
		{0.99, 1, 1},
		{1, 7, 7},
		{2, 7, 7},
		{0.01, 1000, 10},
	} {
		if got := nearestRank(tc.q, tc.n); got != tc.want {
			t.Errorf("nearestRank(%v, %d) = %d, want %d", tc.q, tc.n, got, tc.want)
		}
	}
}

// TestBucketRoundTrip checks that every value falls inside the bounds of
// its bucket, that buckets are contiguous and ordered, and that no bucket
// is wider than 1/subBuckets of its lower bound.
func TestBucketRoundTrip(t *testing.T) {
	var next uint64
	for i := range numBuckets {
		lo, width := bucketBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d (the end of bucket %d)", i, lo, next, i-1)
		}
		if lo >= 2*subBuckets && width*subBuckets > lo {
			t.Fatalf("bucket %d [%d, +%d) is wider than 1/%d of its start", i, lo, width, subBuckets)
		}
		for _, v := range []uint64{lo, lo + width/2, lo + width - 1} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		next = lo + width
	}
	if next != 1<<63 {
		t.Fatalf("the last bucket ends at %d, want 2^63", next)
	}
}

// TestHistogramQuantilesMatchSorted is a differential test: on random
// samples of several shapes, every quantile the histogram gives is within
// one bucket width (1/subBuckets relative) of the exact sorted-sample
// quantile.
func TestHistogramQuantilesMatchSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	shapes := map[string]func() time.Duration{
		"uniform-ms":  func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) },
		"lognormal":   func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*1.5 + 14)) },
		"small-ns":    func() time.Duration { return time.Duration(rng.IntN(300)) },
		"bimodal":     func() time.Duration { return time.Duration(1e6 + rng.IntN(1000) + 1e8*rng.IntN(2)) },
		"constant":    func() time.Duration { return 1234567 },
		"heavy-tail":  func() time.Duration { return time.Duration(1e5 / (rng.Float64() + 1e-6)) },
		"huge-values": func() time.Duration { return time.Duration(rng.Int64N(math.MaxInt64)) },
	}
	quantiles := []float64{0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}
	for name, gen := range shapes {
		for _, n := range []int{1, 2, 10, 999, 20000} {
			var h histogram
			samples := make([]time.Duration, n)
			for i := range samples {
				samples[i] = gen()
				h.record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range quantiles {
				got, want := h.quantile(q), exactQuantile(samples, q)
				tol := want / subBuckets
				if d := got - want; d > tol || d < -tol {
					t.Errorf("%s n=%d: quantile(%v) = %v, exact %v, off by more than %v", name, n, q, got, want, tol)
				}
			}
			if h.min != samples[0] || h.max != samples[n-1] {
				t.Errorf("%s n=%d: min/max = %v/%v, want %v/%v", name, n, h.min, h.max, samples[0], samples[n-1])
			}
		}
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h histogram
	for v := range 100 {
		h.record(time.Duration(v + 1)) // 1..100 ns, each its own bucket
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.99: 99, 0.999: 100, 0.01: 1} {
		if got := h.quantile(q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got := h.mean(); got != 50 { // 5050/100 truncated
		t.Errorf("mean = %v, want 50ns", got)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var h histogram
	if h.quantile(0.99) != 0 || h.mean() != 0 || h.count() != 0 {
		t.Fatalf("empty histogram: quantile %v mean %v count %d, want zeros", h.quantile(0.99), h.mean(), h.count())
	}
	h.record(-5 * time.Millisecond)
	if h.count() != 1 || h.quantile(0.5) != 0 || h.min != 0 {
		t.Fatalf("negative sample: count %d quantile %v min %v, want 1, 0, 0", h.count(), h.quantile(0.5), h.min)
	}
}

// TestHistogramMerge checks that merging per-client histograms gives the
// same answers as recording everything in one.
func TestHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var whole histogram
	parts := make([]histogram, 5)
	for i := range 10000 {
		d := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		whole.record(d)
		parts[i%3].record(d) // parts[3] and parts[4] stay empty
	}
	var merged histogram
	for i := range parts {
		merged.merge(&parts[i])
	}
	if merged != whole {
		t.Fatalf("merged histogram differs from the one recorded whole: n %d vs %d, min %v vs %v, max %v vs %v",
			merged.n, whole.n, merged.min, whole.min, merged.max, whole.max)
	}
}
