//go:build raftmutation

package main

// Deliberate bugs, switched on one at a time by the tests built with the
// raftmutation tag (mutation_test.go), which check that the tests meant
// to catch them then fail:
//   - mutRemoveOldSnapFileFirst removes the previous snapshot's file before
//     the record that names the new one is committed;
//   - mutSkipSnapDirSync leaves the creation of the snapshot directory
//     unsynced;
//   - mutDeliverBeforeSync has the sync goroutine deliver a group's
//     responses (acknowledgements, votes) before its sync is done.
//
// The first two are caught by the crash test, the third by
// TestWriteWaitsForItsSync.
var (
	mutRemoveOldSnapFileFirst bool
	mutSkipSnapDirSync        bool
	mutDeliverBeforeSync      bool
)
