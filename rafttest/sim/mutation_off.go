//go:build !raftmutation

package sim

// Without the raftmutation build tag the simulator's own mutation (a disk
// that loses acknowledged writes) is switched off for good.

func mutDiskLosesWrites() bool { return false }
