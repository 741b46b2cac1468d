//go:build raftmutation

package raft

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// This test only builds with the raftmutation tag:
//
//	go test -tags raftmutation -run TestRandomizedCatchesMutations .
//
// It switches on a deliberate protocol bug of mutation_on.go and checks
// that the randomized test's safety checker notices it within a few seeds:
// the end-to-end proof that TestRandomized can fail.
//
// Mutations.CommitCountsOldTerm is not in the list: the Figure 8 schedule
// that exposes it (paper §5.4.2) needs an old-term entry committed by
// counting, then the leader lost before any entry of its own term gets
// through, then a rival with a newer last term elected. Random schedules
// did not produce it in 3000 runs; TestPaperFigure8 builds the schedule by
// hand.

// failureTB records the first failure of a run instead of failing the
// test. Fatal ends the run's goroutine, as testing.T does; Error does the
// same, so that a run stops at its first failure.
type failureTB struct {
	testing.TB
	failure string
}

func (f *failureTB) Helper() {}
func (f *failureTB) Fatal(args ...any) {
	f.failure = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *failureTB) Fatalf(format string, args ...any) {
	f.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *failureTB) Error(args ...any)                 { f.Fatal(args...) }
func (f *failureTB) Errorf(format string, args ...any) { f.Fatalf(format, args...) }

// CatchFailure runs run with a testing.TB that records its first failure
// instead of failing t, and returns that failure, or "" if run passed. A
// panic counts as a failure too (mutated code trips its own invariants).
// It is exported for the mutation tests of package raft_test.
func CatchFailure(t testing.TB, run func(tb testing.TB)) (failure string) {
	ftb := &failureTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				ftb.failure = fmt.Sprintf("panic: %v", r)
			}
		}()
		run(ftb)
	}()
	<-done
	return ftb.failure
}

// runForFailure runs one randomized schedule and returns its failure, or
// "" if the checker found nothing.
func runForFailure(t *testing.T, seed uint64, nodes int) string {
	return CatchFailure(t, func(tb testing.TB) {
		newRandomSim(tb, simOptions{seed: seed, nodes: nodes, steps: 3000}).run()
	})
}

// violation picks the checker's report out of a failure message.
func violation(f string) string {
	lines := strings.Split(f, "\n")
	if len(lines) > 1 && strings.HasSuffix(lines[0], "safety violated:") {
		return lines[1]
	}
	return lines[0]
}

func TestRandomizedCatchesMutations(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(on bool)
	}{
		{"VoteIgnoresLog", func(on bool) { Mutations.VoteIgnoresLog = on }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.set(true)
			defer tc.set(false)
			for seed := uint64(1); seed <= 200; seed++ {
				for _, nodes := range []int{3, 5} {
					if f := runForFailure(t, seed, nodes); f != "" {
						t.Logf("caught with seed %d, %d nodes: %s", seed, nodes, violation(f))
						return
					}
				}
			}
			t.Fatalf("the checker missed mutation %s in 200 seeds", tc.name)
		})
	}
}
