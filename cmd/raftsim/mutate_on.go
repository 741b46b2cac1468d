//go:build raftmutation

package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/rafttest/sim"
)

var mutate = flag.String("mutate", "", "switch on deliberate bugs (raftmutation builds only): vote-ignores-log, commit-old-term, disk-loses-writes")

// applyMutations switches on the -mutate list, to replay what a mutation
// test found: go run -tags raftmutation ./cmd/raftsim -mutate ... -seed N.
func applyMutations() error {
	for _, m := range strings.Split(*mutate, ",") {
		switch strings.TrimSpace(m) {
		case "":
		case "vote-ignores-log":
			raft.Mutations.VoteIgnoresLog = true
		case "commit-old-term":
			raft.Mutations.CommitCountsOldTerm = true
		case "disk-loses-writes":
			sim.Mutations.DiskLosesWrites = true
		default:
			return fmt.Errorf("unknown mutation %q", m)
		}
	}
	return nil
}

// fixReplay makes a replay command switch the same mutations on.
func fixReplay(cmd string) string {
	if *mutate == "" {
		return cmd
	}
	return strings.Replace(cmd, "go run ./cmd/raftsim", "go run -tags raftmutation ./cmd/raftsim -mutate "+*mutate, 1)
}
