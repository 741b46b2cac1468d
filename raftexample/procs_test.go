package main

import "testing"

func TestWantProcs(t *testing.T) {
	if n, ok := wantProcs("", 2); !ok || n != 2+extraProcs {
		t.Errorf("no GOMAXPROCS in the environment, 2 CPUs: got %d, %v; want %d, true", n, ok, 2+extraProcs)
	}
	if n, ok := wantProcs("", 1); !ok || n != 1+extraProcs {
		t.Errorf("1 CPU: got %d, %v; want %d, true", n, ok, 1+extraProcs)
	}
	// The operator's setting is kept, whatever it is.
	for _, env := range []string{"1", "2", "16", "bogus"} {
		if n, ok := wantProcs(env, 2); ok {
			t.Errorf("GOMAXPROCS=%s: set to %d, want it left alone", env, n)
		}
	}
}
