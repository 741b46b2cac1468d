package progress

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// contents lists the messages in flight, oldest first.
func contents(in *Inflights) []inflight {
	var out []inflight
	for k := range in.count {
		out = append(out, in.buffer[in.pos(k)])
	}
	return out
}

// mustPanic fails the test unless f panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if s, _ := r.(string); !strings.Contains(s, want) {
			t.Fatalf("panic %v, want one mentioning %q", r, want)
		}
	}()
	f()
}

func TestInflightsFullByCount(t *testing.T) {
	in := NewInflights(3, 0)
	for i := uint64(1); i <= 3; i++ {
		if in.Full() {
			t.Fatalf("full after %d of 3 adds", i-1)
		}
		in.Add(i*10, 1000)
	}
	if !in.Full() || in.Count() != 3 || in.Bytes() != 3000 {
		t.Fatalf("after 3 adds: full=%v count=%d bytes=%d, want full, 3, 3000", in.Full(), in.Count(), in.Bytes())
	}
	mustPanic(t, "full window", func() { in.Add(40, 1) })

	in.FreeLE(15) // acknowledges the message ending at 10 only
	if in.Full() || in.Count() != 2 || in.Bytes() != 2000 {
		t.Fatalf("after FreeLE(15): full=%v count=%d bytes=%d, want not full, 2, 2000", in.Full(), in.Count(), in.Bytes())
	}
}

func TestInflightsExtendLast(t *testing.T) {
	in := NewInflights(3, 1000)
	if in.ExtendLast(0, 5, 100) {
		t.Fatal("extended an empty window")
	}
	in.Add(10, 400)
	in.Add(20, 400)
	for _, bad := range []struct{ from, index uint64 }{{10, 25}, {20, 20}, {20, 15}} {
		if in.ExtendLast(bad.from, bad.index, 100) {
			t.Fatalf("ExtendLast(%d, %d) succeeded on %v", bad.from, bad.index, contents(in))
		}
	}
	if !in.ExtendLast(20, 30, 300) {
		t.Fatalf("ExtendLast(20, 30) failed on %v", contents(in))
	}
	want := []inflight{{10, 400}, {30, 700}}
	if got := contents(in); !slices.Equal(got, want) || in.Count() != 2 || in.Bytes() != 1100 {
		t.Fatalf("after extending: %v (%d bytes), want %v (1100 bytes)", got, in.Bytes(), want)
	}
	// Growing past the byte budget fills the window, as an Add would.
	if !in.Full() {
		t.Fatal("not full at 1100 of 1000 bytes")
	}
	in.FreeLE(30)
	if in.Count() != 0 || in.Bytes() != 0 {
		t.Fatalf("after freeing all: %s", in)
	}
}

func TestInflightsFullByBytes(t *testing.T) {
	in := NewInflights(100, 1000)
	in.Add(1, 400)
	in.Add(2, 500)
	if in.Full() {
		t.Fatal("full at 900 of 1000 bytes")
	}
	in.Add(3, 100)
	if !in.Full() {
		t.Fatal("not full at exactly 1000 of 1000 bytes")
	}
	mustPanic(t, "full window", func() { in.Add(4, 0) })
	in.FreeLE(1)
	if in.Full() || in.Bytes() != 600 {
		t.Fatalf("after freeing 400 bytes: full=%v bytes=%d, want not full, 600", in.Full(), in.Bytes())
	}

	// A message larger than the whole budget still gets through an empty
	// window, or a big entry would stall the peer forever.
	in.FreeLE(3)
	in.Add(4, 5000)
	if !in.Full() || in.Count() != 1 {
		t.Fatalf("oversized message: full=%v count=%d, want full with 1", in.Full(), in.Count())
	}
}

func TestInflightsFreeLE(t *testing.T) {
	in := NewInflights(10, 0)
	for i := uint64(1); i <= 5; i++ {
		in.Add(i*2, i) // indexes 2 4 6 8 10, bytes 1..5
	}
	for _, tc := range []struct {
		free      uint64
		wantCount int
		wantBytes uint64
	}{
		{1, 5, 15},  // below the oldest: nothing to free
		{4, 3, 12},  // frees 2 and 4
		{4, 3, 12},  // repeated (stale) acknowledgement: no-op
		{7, 2, 9},   // between indexes: frees 6 only
		{100, 0, 0}, // beyond the newest: frees everything
		{200, 0, 0}, // empty window: no-op
	} {
		in.FreeLE(tc.free)
		if in.Count() != tc.wantCount || in.Bytes() != tc.wantBytes {
			t.Fatalf("FreeLE(%d): count=%d bytes=%d, want %d, %d", tc.free, in.Count(), in.Bytes(), tc.wantCount, tc.wantBytes)
		}
	}
	if in.start != 0 {
		t.Errorf("empty window starts at %d, want 0", in.start)
	}
}

func TestInflightsIndexMustIncrease(t *testing.T) {
	in := NewInflights(10, 0)
	in.Add(5, 1)
	mustPanic(t, "indexes must increase", func() { in.Add(5, 1) })
	mustPanic(t, "indexes must increase", func() { in.Add(4, 1) })
	mustPanic(t, "must be positive", func() { NewInflights(0, 0) })
}

// TestInflightsWrapAround fills a small ring, frees its head and refills it,
// so that the newest messages sit at the start of the buffer.
func TestInflightsWrapAround(t *testing.T) {
	in := NewInflights(5, 0)
	for i := uint64(1); i <= 5; i++ {
		in.Add(i, 1)
	}
	in.FreeLE(3)
	in.Add(6, 1)
	in.Add(7, 1)
	in.Add(8, 1)
	if !in.Full() {
		t.Fatal("not full with 5 of 5 after wrapping")
	}
	if in.start != 3 || in.buffer[0].index != 6 || in.buffer[2].index != 8 {
		t.Fatalf("ring did not wrap: start=%d buffer=%v", in.start, in.buffer)
	}
	in.FreeLE(3) // stale
	if got, want := contents(in), []inflight{{4, 1}, {5, 1}, {6, 1}, {7, 1}, {8, 1}}; !slices.Equal(got, want) {
		t.Fatalf("contents %v, want %v", got, want)
	}
	// Freeing across the wrap point.
	in.FreeLE(6)
	if got := contents(in); !slices.Equal(got, []inflight{{7, 1}, {8, 1}}) {
		t.Fatalf("after FreeLE(6): %v, want [{7 1} {8 1}]", got)
	}
	if in.start != 1 {
		t.Fatalf("start=%d after freeing past the wrap point, want 1", in.start)
	}
}

// TestInflightsGrowth checks that the buffer is allocated on demand, never
// beyond size, and that growing keeps messages in place even when the
// window does not start at position 0.
func TestInflightsGrowth(t *testing.T) {
	in := NewInflights(1000, 0)
	if len(in.buffer) != 0 {
		t.Fatalf("new window allocated %d slots up front", len(in.buffer))
	}
	in.Add(1, 1)
	if len(in.buffer) != minGrow {
		t.Fatalf("after 1 add: %d slots, want %d", len(in.buffer), minGrow)
	}
	for i := uint64(2); i <= 4; i++ {
		in.Add(i, 1)
	}
	in.FreeLE(2) // start moves to 2; positions 2 and 3 occupied
	in.Add(5, 1) // needs position 4: grow
	in.Add(6, 1)
	if len(in.buffer) != 2*minGrow {
		t.Fatalf("after growing once: %d slots, want %d", len(in.buffer), 2*minGrow)
	}
	if got := contents(in); !slices.Equal(got, []inflight{{3, 1}, {4, 1}, {5, 1}, {6, 1}}) {
		t.Fatalf("contents after growth %v", got)
	}

	small := NewInflights(6, 0)
	for i := uint64(1); i <= 6; i++ {
		small.Add(i, 1)
	}
	if len(small.buffer) != 6 {
		t.Fatalf("full window of 6 has %d slots, want exactly 6", len(small.buffer))
	}
}

func TestInflightsResetAndClone(t *testing.T) {
	in := NewInflights(4, 100)
	in.Add(1, 10)
	in.Add(2, 20)
	cl := in.Clone()
	in.Reset()
	if in.Count() != 0 || in.Bytes() != 0 || in.Full() || len(in.buffer) == 0 {
		t.Fatalf("after Reset: %s, buffer %d slots; want empty with buffer kept", in, len(in.buffer))
	}
	in.Add(7, 1)
	if got := contents(cl); !slices.Equal(got, []inflight{{1, 10}, {2, 20}}) || cl.Bytes() != 30 {
		t.Fatalf("clone changed with the original: %v, %d bytes", got, cl.Bytes())
	}
	cl.FreeLE(1)
	if in.Count() != 1 || contents(in)[0].index != 7 {
		t.Fatalf("original changed with the clone: %v", contents(in))
	}
}

func TestInflightsString(t *testing.T) {
	in := NewInflights(3, 0)
	in.Add(1, 10)
	if got, want := in.String(), "1/3 msgs, 10 bytes"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	in = NewInflights(3, 10)
	in.Add(1, 10)
	if got, want := in.String(), "1/3 msgs, 10/10 bytes [full]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestInflightsRandom compares the ring against a plain slice over random
// adds and frees, across sizes that wrap and grow a lot.
func TestInflightsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for round := range 200 {
		size, maxBytes := 1+r.IntN(20), uint64(r.IntN(3)*50)
		in := NewInflights(size, maxBytes)
		var model []inflight
		var modelBytes uint64
		next := uint64(1)
		for op := range 300 {
			modelFull := len(model) == size || (maxBytes > 0 && modelBytes >= maxBytes)
			if in.Full() != modelFull {
				t.Fatalf("round %d op %d: Full()=%v, model says %v", round, op, in.Full(), modelFull)
			}
			if !modelFull && r.IntN(3) > 0 {
				next += 1 + r.Uint64N(3)
				b := r.Uint64N(30)
				in.Add(next, b)
				model = append(model, inflight{next, b})
				modelBytes += b
			} else {
				upTo := next - r.Uint64N(10)
				in.FreeLE(upTo)
				for len(model) > 0 && model[0].index <= upTo {
					modelBytes -= model[0].bytes
					model = model[1:]
				}
			}
			if got := contents(in); !slices.Equal(got, model) || in.Bytes() != modelBytes {
				t.Fatalf("round %d op %d: ring %v (%d bytes), model %v (%d bytes)", round, op, got, in.Bytes(), model, modelBytes)
			}
			if len(in.buffer) > size {
				t.Fatalf("buffer grew to %d beyond size %d", len(in.buffer), size)
			}
		}
	}
}

// TestInflightsSteadyStateNoAlloc: once the buffer has grown, replication
// in steady state must not allocate per message.
func TestInflightsSteadyStateNoAlloc(t *testing.T) {
	in := NewInflights(64, 1<<20)
	idx := uint64(0)
	cycle := func() {
		for range 8 {
			idx++
			in.Add(idx, 100)
		}
		in.FreeLE(idx)
	}
	cycle() // first use grows the buffer
	if a := testing.AllocsPerRun(100, cycle); a != 0 {
		t.Fatalf("add/free cycle allocates %v times, want 0", a)
	}
}
