//go:build raftmutation

package sim

// Mutations switches on deliberate bugs in the simulator's environment,
// like raft.Mutations does in the library, so that mutation tests can
// prove the checkers notice them. Only builds with the raftmutation tag
// have it.
var Mutations struct {
	// DiskLosesWrites makes a crash roll a node's disk back a few synced
	// writes: it acknowledged them and then lost them.
	DiskLosesWrites bool
}

func mutDiskLosesWrites() bool { return Mutations.DiskLosesWrites }
