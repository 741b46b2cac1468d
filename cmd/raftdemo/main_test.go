package main

import (
	"testing"
	"time"
)

// TestRun runs the whole demo: election, writes, failover and catch-up. Any
// step that does not happen makes run return an error.
func TestRun(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		if err := run(n, 3, 2*time.Millisecond); err != nil {
			t.Errorf("%d nodes: %v", n, err)
		}
	}
}
