//go:build !raftmutation

package main

// Deliberate bugs, for proving that the tests catch them; see
// mutation_on.go. Without the raftmutation build tag they are constants,
// and the code they guard is compiled away.
const (
	mutRemoveOldSnapFileFirst = false
	mutSkipSnapDirSync        = false
	mutDeliverBeforeSync      = false
)
