package main

import (
	"testing"
	"time"
)

// expire closes the channels of the waiters past their deadline, and only
// those; a trigger after that, or for a forgotten ID, is harmless.
func TestWaitersExpire(t *testing.T) {
	var w waiters[int]
	now := time.Unix(1000, 0)
	past := w.registerUntil(1, now.Add(-time.Second))
	future := w.registerUntil(2, now.Add(time.Second))
	none := w.register(3)
	w.expire(now)
	if v, ok := <-past; ok {
		t.Fatalf("expired waiter got %d, want a closed channel", v)
	}
	w.trigger(1, 10) // already expired: no send on the closed channel
	w.trigger(2, 20)
	w.trigger(3, 30)
	if v, ok := <-future; !ok || v != 20 {
		t.Fatalf("waiter with a later deadline got %d, %v; want 20", v, ok)
	}
	if v := <-none; v != 30 {
		t.Fatalf("waiter without a deadline got %d, want 30", v)
	}
	w.expire(now.Add(time.Hour)) // nothing left to expire
	if len(w.m) != 0 {
		t.Fatalf("%d waiters left", len(w.m))
	}
}

func TestSweepInterval(t *testing.T) {
	for _, tc := range []struct{ timeout, want time.Duration }{
		{5 * time.Second, 100 * time.Millisecond},
		{300 * time.Millisecond, 30 * time.Millisecond},
		{time.Millisecond, time.Millisecond},
	} {
		if got := sweepInterval(tc.timeout); got != tc.want {
			t.Errorf("sweepInterval(%v) = %v, want %v", tc.timeout, got, tc.want)
		}
	}
}
