package main

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSnapshotPoints checks that nodes 1 to 5 take their snapshots at
// different points of the interval, and that nextSnapshotAt keeps a node
// on its own points.
func TestSnapshotPoints(t *testing.T) {
	const every = 10000
	var phases []uint64
	for id := uint64(1); id <= 5; id++ {
		p := snapshotPhase(id, every)
		if p >= every {
			t.Fatalf("node %d: phase %d outside [0, %d)", id, p, every)
		}
		for _, q := range phases {
			d := min((p-q+every)%every, (q-p+every)%every)
			if d < every/10 {
				t.Fatalf("node %d: phase %d within %d of another node's (%d); phases %v", id, p, d, q, phases)
			}
		}
		phases = append(phases, p)
	}
	for _, every := range []uint64{1, 7, 20, 10000} {
		for id := uint64(1); id <= 3; id++ {
			phase := snapshotPhase(id, every)
			for _, last := range []uint64{0, 1, phase, phase + 1, every - 1, every, 3*every + phase, 5 * every} {
				next := nextSnapshotAt(last, every, phase)
				if next <= last || next > last+every || next%every != phase {
					t.Fatalf("nextSnapshotAt(%d, %d, %d) = %d: want the first index after %d that is %d modulo %d",
						last, every, phase, next, last, phase, every)
				}
			}
		}
	}
}

// TestKVCloneIsolated checks that the copy the node loop hands to the
// background snapshot does not see later writes, so a snapshot's data is
// the state at its index.
func TestKVCloneIsolated(t *testing.T) {
	s := newKVStore()
	s.apply(command{op: opPut, key: "a", value: []byte("1")})
	s.apply(command{op: opPut, key: "b", value: []byte("2")})
	c := s.clone()
	s.apply(command{op: opPut, key: "a", value: []byte("changed")})
	s.apply(command{op: opDelete, key: "b"})
	s.apply(command{op: opPut, key: "c", value: []byte("3")})

	r := newKVStore()
	if _, err := r.restore(encodeSnapshot(c, memberState{})); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		if v, ok := r.get(k); !ok || string(v) != want {
			t.Fatalf("%s = %q, %v in the snapshot of the clone; want %q", k, v, ok, want)
		}
	}
	if _, ok := r.get("c"); ok {
		t.Fatalf("a write after the clone reached its snapshot")
	}
}

// TestBackgroundSnapshotRestart runs a single node, whose log is exactly
// the bootstrap entries followed by one entry per PUT, so the data a
// snapshot must hold at each index is known. It checks that the snapshots
// written in the background match their index, that the log is compacted
// behind them, and that the node restarts from one after a crash.
func TestBackgroundSnapshotRestart(t *testing.T) {
	forEachStorageMode(t, testBackgroundSnapshotRestart)
}

func testBackgroundSnapshotRestart(t *testing.T, mode storageMode) {
	const n = 50
	c := newTestCluster(t, 1, mode.with(func(cfg *serverConfig) {
		cfg.snapshotEntries = 20
		cfg.catchUpEntries = 5
	}))
	c.waitLeader()
	for i := range n {
		c.put(1, fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	st, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	firstPut := st.Applied - n + 1 // the index of k00's entry
	c.mu.Lock()
	s := c.servers[1]
	c.mu.Unlock()
	// Snapshot points for node 1 are 12, 32 and 52 (phase 12 of 20); the
	// last one may still be in flight.
	waitFor(t, "a snapshot and a compaction", func() error {
		snap, _ := s.storage.Snapshot()
		first, _ := s.storage.FirstIndex()
		if snap.Metadata.Index < 32 || first <= 1 {
			return fmt.Errorf("snapshot at %d, first index %d", snap.Metadata.Index, first)
		}
		return nil
	})
	snap, _ := s.storage.Snapshot()
	idx := snap.Metadata.Index
	r := newKVStore()
	if _, err := r.restore(snap.Data); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		v, ok := r.get(k)
		if inSnap := firstPut+uint64(i) <= idx; ok != inSnap || ok && string(v) != fmt.Sprint(i) {
			t.Fatalf("snapshot at %d: %s = %q, %v; its entry is at %d", idx, k, v, ok, firstPut+uint64(i))
		}
	}
	if got := testutil.ToFloat64(s.metrics.snapshots.WithLabelValues("created")); got < 2 {
		t.Fatalf("%v snapshots created; want at least 2", got)
	}

	c.crash(1)
	c.start(1, nil)
	c.waitLeader()
	c.mu.Lock()
	s = c.servers[1]
	c.mu.Unlock()
	if s.applied.get() < idx {
		t.Fatalf("restarted node at applied index %d: it did not start from the snapshot at %d", s.applied.get(), idx)
	}
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		if v, ok := c.get(1, k, false); !ok || v != fmt.Sprint(i) {
			t.Fatalf("after restart: %s = %q, %v", k, v, ok)
		}
	}
}
