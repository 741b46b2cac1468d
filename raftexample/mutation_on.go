//go:build raftmutation

package main

// Deliberate bugs, switched on one at a time by the tests built with the
// raftmutation tag (mutation_test.go), which check that the crash test
// then fails:
//   - mutRemoveOldSnapFileFirst removes the previous snapshot's file before
//     the record that names the new one is committed;
//   - mutSkipSnapDirSync leaves the creation of the snapshot directory
//     unsynced.
var (
	mutRemoveOldSnapFileFirst bool
	mutSkipSnapDirSync        bool
)
