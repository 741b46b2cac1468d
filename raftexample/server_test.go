package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestClusterReadWriteEveryNode writes through every node and reads every
// write back through every node, linearizably (which must see it at once)
// and serializably (which sees it once the node has applied it).
func TestClusterReadWriteEveryNode(t *testing.T) {
	forEachStorageMode(t, testClusterReadWriteEveryNode)
}

func testClusterReadWriteEveryNode(t *testing.T, mode storageMode) {
	c := newTestCluster(t, 3, mode.with(nil))
	c.waitLeader()
	for id := uint64(1); id <= 3; id++ {
		c.put(id, fmt.Sprintf("key-%d", id), fmt.Sprintf("value-%d", id))
	}
	// The two writes through followers joined a leader's batch.
	forwarded := 0.0
	for id := uint64(1); id <= 3; id++ {
		b := string(c.must(http.MethodGet, c.url(id, "/metrics"), nil, http.StatusOK))
		n, ok := metricValue(b, "raftexample_forwarded_writes_batched_total")
		if !ok {
			t.Fatalf("node %d: /metrics lacks raftexample_forwarded_writes_batched_total", id)
		}
		forwarded += n
		// Each node timed the stages of the write it took, the two
		// forwarded ones included.
		if n, _ := metricValue(b, `raftexample_write_stage_duration_seconds_count{stage="replicate"}`); n != 1 {
			t.Errorf("node %d timed the replication of %v writes, want the 1 written through it", id, n)
		}
	}
	if forwarded != 2 {
		t.Errorf("leaders batched %v forwarded writes, want the 2 written through followers", forwarded)
	}
	for reader := uint64(1); reader <= 3; reader++ {
		for writer := uint64(1); writer <= 3; writer++ {
			key, want := fmt.Sprintf("key-%d", writer), fmt.Sprintf("value-%d", writer)
			if got, ok := c.get(reader, key, false); !ok || got != want {
				t.Fatalf("linearizable GET %s on node %d = %q, %v; want %q", key, reader, got, ok, want)
			}
			waitFor(t, "a serializable read", func() error {
				if got, _ := c.get(reader, key, true); got != want {
					return fmt.Errorf("GET %s?serializable=true on node %d = %q", key, reader, got)
				}
				return nil
			})
		}
	}
	// Overwrite, list, delete.
	c.put(2, "key-1", "changed")
	if got, _ := c.get(3, "key-1", false); got != "changed" {
		t.Fatalf("after overwrite GET key-1 = %q", got)
	}
	var list struct{ Keys []string }
	if err := json.Unmarshal(c.must(http.MethodGet, c.url(1, "/kv?prefix=key-"), nil, http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	if want := []string{"key-1", "key-2", "key-3"}; !slices.Equal(list.Keys, want) {
		t.Fatalf("GET /kv?prefix=key- = %q, want %q", list.Keys, want)
	}
	var del struct{ Deleted bool }
	if err := json.Unmarshal(c.must(http.MethodDelete, c.url(3, "/kv/key-2"), nil, http.StatusOK), &del); err != nil || !del.Deleted {
		t.Fatalf("DELETE key-2: %+v, %v", del, err)
	}
	for id := uint64(1); id <= 3; id++ {
		if _, ok := c.get(id, "key-2", false); ok {
			t.Fatalf("key-2 still readable on node %d after DELETE", id)
		}
	}
	// Keys with slashes and escapes survive the path.
	c.put(1, "dir%2Fsub%20key", "x")
	if got, ok := c.get(2, "dir%2Fsub%20key", false); !ok || got != "x" {
		t.Fatalf("escaped key: %q, %v", got, ok)
	}
	if err := json.Unmarshal(c.must(http.MethodGet, c.url(3, "/kv?prefix=dir/"), nil, http.StatusOK), &list); err != nil || !slices.Equal(list.Keys, []string{"dir/sub key"}) {
		t.Fatalf("GET /kv?prefix=dir/ = %q, %v", list.Keys, err)
	}
}

// TestClusterCrashRestart kills a follower (no flush), writes while it is
// down, restarts it from its data directory and checks it catches up;
// then kills every node at once and checks that every acknowledged write
// survives a restart of the whole cluster.
func TestClusterCrashRestart(t *testing.T) { forEachStorageMode(t, testClusterCrashRestart) }

func testClusterCrashRestart(t *testing.T, mode storageMode) {
	c := newTestCluster(t, 3, mode.with(func(cfg *serverConfig) {
		cfg.snapshotEntries = 25
		cfg.catchUpEntries = 5
	}))
	lead := c.waitLeader()
	victim := lead%3 + 1
	for i := range 20 {
		c.put(lead, fmt.Sprintf("before-%d", i), "v")
	}
	c.crash(victim)
	for i := range 40 { // more than a snapshot's worth
		c.put(lead, fmt.Sprintf("during-%d", i), "v")
	}
	c.start(victim, nil)
	waitFor(t, "the restarted node to catch up", func() error {
		for _, k := range []string{"before-0", "before-19", "during-0", "during-39"} {
			if _, ok := c.get(victim, k, true); !ok {
				return fmt.Errorf("node %d lacks %s", victim, k)
			}
		}
		return nil
	})
	if n := snapshotsApplied(c, victim); n == 0 {
		t.Fatalf("node %d caught up without a snapshot, though the leader compacted its log", victim)
	}
	c.put(victim, "after", "v")

	for _, id := range []uint64{1, 2, 3} {
		c.crash(id)
	}
	for _, id := range []uint64{1, 2, 3} {
		c.start(id, nil)
	}
	c.waitLeader()
	for _, id := range []uint64{1, 2, 3} {
		for _, k := range []string{"before-0", "before-19", "during-0", "during-39", "after"} {
			if _, ok := c.get(id, k, false); !ok {
				t.Fatalf("after a full-cluster crash, node %d lost acknowledged key %s", id, k)
			}
		}
	}
}

// TestClusterLeaderFailover writes concurrently through every node while
// the leader is killed, and checks that every write acknowledged with 200
// is readable afterwards on every surviving node.
func TestClusterLeaderFailover(t *testing.T) { forEachStorageMode(t, testClusterLeaderFailover) }

func testClusterLeaderFailover(t *testing.T, mode storageMode) {
	c := newTestCluster(t, 3, mode.with(func(cfg *serverConfig) { cfg.requestTimeout = 2 * time.Second }))
	lead := c.waitLeader()
	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for _, id := range []uint64{1, 2, 3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", id, i)
				code, _, err := c.do(http.MethodPut, c.url(id, "/kv/"+key), []byte(key))
				if err == nil && code == http.StatusOK {
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
				} else if err == nil && code != http.StatusServiceUnavailable {
					t.Errorf("PUT %s on node %d: %d (want 200 or 503)", key, id, code)
				}
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor(t, "writes before the failover", func() error {
		if n := count(); n < 50 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})
	c.crash(lead)
	before := count()
	newLead := c.waitLeader()
	if newLead == lead {
		t.Fatalf("leader %d was killed but is still named leader", lead)
	}
	waitFor(t, "writes after the failover", func() error {
		if n := count(); n < before+50 {
			return fmt.Errorf("%d writes, %d before the failover", n, before)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, id := range c.ids() {
		for _, key := range acked {
			if v, ok := c.get(id, key, false); !ok || v != key {
				t.Fatalf("acknowledged write %s lost on node %d (got %q, %v)", key, id, v, ok)
			}
		}
	}
	// The old leader comes back, catches up and agrees.
	c.start(lead, nil)
	c.waitLeader() // the others reconnect to it after their backoff
	target, err := c.status(newLead)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old leader to catch up", func() error {
		st, err := c.status(lead)
		if err != nil {
			return err
		}
		if st.Applied < target.Commit {
			return fmt.Errorf("applied %d, leader's commit was %d", st.Applied, target.Commit)
		}
		return nil
	})
	for _, key := range acked {
		if v, ok := c.get(lead, key, false); !ok || v != key {
			t.Fatalf("restarted old leader %d: acknowledged write %s = %q, %v", lead, key, v, ok)
		}
	}
	t.Logf("%d acknowledged writes, killed leader %d, new leader %d", len(acked), lead, newLead)
}

// TestClusterAddNodeBySnapshot compacts the log, adds a 4th node and checks
// that it catches up through a snapshot and then serves reads and writes.
func TestClusterAddNodeBySnapshot(t *testing.T) { forEachStorageMode(t, testClusterAddNodeBySnapshot) }

func testClusterAddNodeBySnapshot(t *testing.T, mode storageMode) {
	c := newTestCluster(t, 3, mode.with(func(cfg *serverConfig) {
		cfg.snapshotEntries = 20
		cfg.catchUpEntries = 5
	}))
	lead := c.waitLeader()
	for i := range 60 {
		c.put(lead, fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	c.mu.Lock()
	first, _ := c.servers[lead].storage.FirstIndex()
	c.mu.Unlock()
	if first <= 1 {
		t.Fatalf("leader's log starts at %d: it was never compacted, so a snapshot is not needed", first)
	}

	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	body := fmt.Sprintf(`{"id": 4, "peerURL": %q, "learner": false}`, addr)
	c.must(http.MethodPost, c.url(2, "/cluster/members"), []byte(body), http.StatusOK)

	cluster := map[uint64]string{4: addr}
	for id, cfg := range c.cfgs {
		cluster[id] = cfg.cluster[id]
	}
	cfg := c.baseConfig(4, cluster)
	cfg.join = true
	cfg.snapshotEntries, cfg.catchUpEntries = 20, 5
	c.mu.Lock()
	c.cfgs[4] = cfg
	c.mu.Unlock()
	c.start(4, ln)

	waitFor(t, "node 4 to catch up", func() error {
		if v, ok := c.get(4, "k59", true); !ok || v != "59" {
			_, sb, _ := c.do(http.MethodGet, c.url(lead, "/cluster/status"), nil)
			_, sb4, _ := c.do(http.MethodGet, c.url(4, "/cluster/status"), nil)
			return fmt.Errorf("node 4 has k59 = %q, %v; leader %s; node4 %s", v, ok, sb, sb4)
		}
		return nil
	})
	if n := snapshotsApplied(c, 4); n == 0 {
		t.Fatalf("node 4 caught up without receiving a snapshot")
	}
	for i := range 60 {
		if v, ok := c.get(4, fmt.Sprintf("k%02d", i), true); !ok || v != fmt.Sprint(i) {
			t.Fatalf("node 4: k%02d = %q, %v", i, v, ok)
		}
	}
	c.put(4, "from-4", "x")
	if v, ok := c.get(1, "from-4", false); !ok || v != "x" {
		t.Fatalf("write through node 4 not visible on node 1: %q, %v", v, ok)
	}
	st, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 4 || st.Members[3].ID != 4 || st.Members[3].PeerURL != addr {
		t.Fatalf("members after adding node 4: %+v", st.Members)
	}
	// Node 4 survives a restart with the state it got from the snapshot.
	c.crash(4)
	c.start(4, nil)
	c.waitLeader()
	if v, ok := c.get(4, "k00", false); !ok || v != "0" {
		t.Fatalf("node 4 after restart: k00 = %q, %v", v, ok)
	}
}

// TestClusterRemoveNode removes a follower and checks that the others go
// on, that the removed node refuses clients, and that its messages are
// refused by the remaining members.
func TestClusterRemoveNode(t *testing.T) { forEachStorageMode(t, testClusterRemoveNode) }

func testClusterRemoveNode(t *testing.T, mode storageMode) {
	c := newTestCluster(t, 3, mode.with(func(cfg *serverConfig) { cfg.requestTimeout = time.Second }))
	lead := c.waitLeader()
	victim := lead%3 + 1
	other := 6 - lead - victim
	c.put(victim, "before", "x")
	c.must(http.MethodDelete, c.url(other, fmt.Sprintf("/cluster/members/%d", victim)), nil, http.StatusOK)
	for _, id := range []uint64{lead, other} {
		st, err := c.status(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st.Members {
			if m.ID == victim {
				t.Fatalf("node %d still lists removed node %d: %+v", id, victim, st.Members)
			}
		}
	}
	c.put(lead, "after", "y")
	if v, _ := c.get(other, "after", false); v != "y" {
		t.Fatalf("write after removal: %q", v)
	}
	waitFor(t, "the removed node to refuse clients", func() error {
		code, b, err := c.do(http.MethodPut, c.url(victim, "/kv/z"), []byte("z"))
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "removed") {
			return fmt.Errorf("PUT on the removed node: %d %s", code, b)
		}
		return nil
	})
	// Removing it again: it is no longer a member.
	c.must(http.MethodDelete, c.url(lead, fmt.Sprintf("/cluster/members/%d", victim)), nil, http.StatusNotFound)
}

// TestWriteTimeout checks that a write that cannot commit answers 503
// with a message, not a false success, and that linearizable reads do too.
func TestWriteTimeout(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *serverConfig) { cfg.requestTimeout = 300 * time.Millisecond })
	c.waitLeader()
	c.put(1, "k", "v")
	c.crash(2)
	c.crash(3)
	code, b, err := c.do(http.MethodPut, c.url(1, "/kv/k"), []byte("new"))
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("PUT without a quorum: %d %s %v; want 503 with an error", code, b, err)
	}
	code, b, _ = c.do(http.MethodGet, c.url(1, "/kv/k"), nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("linearizable GET without a quorum: %d %s; want 503", code, b)
	}
	if v, _ := c.get(1, "k", true); v != "v" {
		t.Fatalf("serializable GET without a quorum = %q, want the old value", v)
	}
}

// TestStartRefusesBadDataDir checks that a node refuses a data directory
// that is corrupt or belongs to another node, and leaves it alone.
func TestStartRefusesBadDataDir(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.waitLeader()
	c.put(1, "k", "v")
	c.crash(1)

	cfg := c.cfgs[1]
	cfg.id = 2
	cfg.cluster = map[uint64]string{2: cfg.cluster[1]}
	cfg.listenClient = "127.0.0.1:0"
	if s, err := startServer(cfg); !errors.Is(err, ErrDataDirMismatch) {
		if s != nil {
			s.close()
		}
		t.Fatalf("starting node 2 on node 1's data: err = %v, want ErrDataDirMismatch", err)
	}
	cfg = c.cfgs[1]
	cfg.clusterToken = "another-cluster"
	if _, err := startServer(cfg); !errors.Is(err, ErrDataDirMismatch) {
		t.Fatalf("starting with another cluster token: err = %v, want ErrDataDirMismatch", err)
	}

	junk := t.TempDir()
	if err := os.WriteFile(filepath.Join(junk, "important.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = c.cfgs[1]
	cfg.dataDir = junk
	if _, err := startServer(cfg); !errors.Is(err, ErrDataDirCorrupt) {
		t.Fatalf("starting on a foreign directory: err = %v, want ErrDataDirCorrupt", err)
	}
	// Refusing touched nothing: the node still starts on its own data.
	c.start(1, nil)
	if v, _ := c.get(1, "k", false); v != "v" {
		t.Fatalf("after refused starts, k = %q", v)
	}
}

// snapshotsApplied returns how many snapshots from the leader node id has
// restored.
func snapshotsApplied(c *testCluster, id uint64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return testutil.ToFloat64(c.servers[id].metrics.snapshots.WithLabelValues("applied"))
}

// TestClusterLearner adds a learner that never starts: it gets no vote, so
// the single voter keeps committing alone, and status reports it as a
// learner. Then it is removed again.
func TestClusterLearner(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *serverConfig) { cfg.requestTimeout = time.Second })
	c.waitLeader()
	c.must(http.MethodPost, c.url(1, "/cluster/members"), []byte(`{"id": 2, "peerURL": "127.0.0.1:9", "learner": true}`), http.StatusOK)
	st, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 2 || !st.Members[1].Learner || st.Members[0].Learner {
		t.Fatalf("members after adding a learner: %+v", st.Members)
	}
	// Had it been added as a voter, this write would need its vote and
	// time out.
	c.put(1, "k", "v")
	c.must(http.MethodDelete, c.url(1, "/cluster/members/2"), nil, http.StatusOK)
	c.must(http.MethodPost, c.url(1, "/cluster/members"), []byte(`{"id": 2, "peerURL": "127.0.0.1:9"}`), http.StatusConflict)
}

// TestStorageFailureStopsNode makes a node's log writes fail. The write in
// flight gets a 503, and from then on the node refuses every request with
// a 503 that says why: a node that cannot persist must not acknowledge
// anything, nor serve reads as if it were current.
func TestStorageFailureStopsNode(t *testing.T) {
	forEachStorageMode(t, testStorageFailureStopsNode)
}

func testStorageFailureStopsNode(t *testing.T, mode storageMode) {
	var failing atomic.Bool
	c := newTestCluster(t, 1, mode.with(func(cfg *serverConfig) {
		cfg.requestTimeout = time.Second
		cfg.failWrite = func() error {
			if failing.Load() {
				return errors.New("injected disk failure")
			}
			return nil
		}
	}))
	c.waitLeader()
	c.put(1, "k", "v")
	failing.Store(true)
	code, b, err := c.do(http.MethodPut, c.url(1, "/kv/k"), []byte("new"))
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("PUT whose write fails: %d %s %v; want 503", code, b, err)
	}
	for _, u := range []string{"/kv/k", "/kv/k?serializable=true"} {
		code, b, _ = c.do(http.MethodGet, c.url(1, u), nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "injected disk failure") {
			t.Fatalf("GET %s after the failure: %d %s; want 503 naming the failure", u, code, b)
		}
	}
	code, b, _ = c.do(http.MethodPut, c.url(1, "/kv/k2"), []byte("x"))
	if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "stopped") {
		t.Fatalf("PUT after the failure: %d %s; want 503 saying the node stopped", code, b)
	}
}
