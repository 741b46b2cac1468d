//go:build raftmutation

package main

import "testing"

// With each deliberate bug of mutation_on.go switched on, the crash test's
// scenario must find crash states that are wrong: it catches the bugs it
// exists for.
func TestCrashTestCatchesMutations(t *testing.T) {
	for _, m := range []struct {
		name string
		flag *bool
	}{
		{"old snapshot file removed before the commit", &mutRemoveOldSnapFileFirst},
		{"snapshot directory creation not synced", &mutSkipSnapDirSync},
	} {
		t.Run(m.name, func(t *testing.T) {
			*m.flag = true
			defer func() { *m.flag = false }()
			if problems := snapshotCrashProblems(t); len(problems) == 0 {
				t.Fatal("the crash test found nothing wrong")
			} else {
				t.Logf("%d wrong crash states, the first: %s", len(problems), problems[0])
			}
		})
	}
}

// With the sync goroutine delivering responses before the sync, a write is
// answered while its sync is held.
func TestSyncGateCatchesMutations(t *testing.T) {
	mutDeliverBeforeSync = true
	defer func() { mutDeliverBeforeSync = false }()
	if p := syncGateProblem(t, storageMode{async: true}); p == "" {
		t.Fatal("the write was not answered before its sync: the test found nothing wrong")
	} else {
		t.Log(p)
	}
}
