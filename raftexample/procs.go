package main

import (
	"os"
	"runtime"
)

// extraProcs is how many more Ps (threads running Go code) the server asks
// the Go runtime for than it would get by default (one per CPU it may use).
//
// Every pebble WAL sync is an fdatasync of about a millisecond on a
// virtual disk, and under load one or two are in progress at any moment
// (an execution trace of the 3-node process on 2 CPUs: 2.8 s inside
// fdatasync per 2 s). A goroutine in a system call keeps its P until the
// runtime's monitor hands the P on (after 20 µs to 10 ms), and when the
// call returns after that, the goroutine must find a free P before it can
// go on. With spare Ps a sync that ends usually finds one at once, and the
// kernel shares the CPUs among the threads instead. Measured on 2 CPUs
// (writes only, 64 clients, 12 s rounds alternating with the default on
// fresh clusters, 12 pairs): median 9194 against 7998 PUT/s, more PUT/s in
// 8 of the pairs and a lower p99 in 9, CPU per write about the same
// (medians 135 and 143 µs). Single rounds vary by ±20% with the machine and
// overlap; the gain shows in the medians, not in every pair. (Earlier
// code had measured GOMAXPROCS 3 and 4 within the noise.)
// GOMAXPROCS 3 was worse than the default, 5, 6 and 8 no better than 4.
const extraProcs = 2

// raiseProcs sets GOMAXPROCS to the default plus extraProcs, unless the
// GOMAXPROCS environment variable sets it, which always wins. It returns
// the value in effect.
func raiseProcs() int {
	if n, ok := wantProcs(os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); ok {
		runtime.GOMAXPROCS(n)
	}
	return runtime.GOMAXPROCS(0)
}

// wantProcs returns the GOMAXPROCS to set given the environment variable's
// value and the runtime's current (default) one, and false if it should be
// left alone.
func wantProcs(env string, current int) (int, bool) {
	if env != "" {
		return 0, false
	}
	return current + extraProcs, true
}
