package raft_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft/rafttest"
)

// TestInteraction runs every script in testdata through a fresh
// rafttest.InteractionEnv. Regenerate expected output with
// go test . -run TestInteraction -rewrite, then read the diff.
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := rafttest.NewInteractionEnv(nil)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.Handle(t, *d)
		})
	})
}
