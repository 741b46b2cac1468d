package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCluster runs real nodes in the test process: pebble in t.TempDir(),
// gRPC and HTTP on loopback ports.
type testCluster struct {
	t       testing.TB
	mu      sync.Mutex
	servers map[uint64]*server
	cfgs    map[uint64]serverConfig
	client  *http.Client
}

// testLogger sends a node's log to the test log, so that it shows only for
// failing tests.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	// A port just released by a crashed node may take a moment to free.
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen %s: %v", addr, err)
	return nil
}

// newTestCluster starts n nodes; tweak, if not nil, adjusts every node's
// configuration.
func newTestCluster(t testing.TB, n int, tweak func(*serverConfig)) *testCluster {
	t.Helper()
	c := &testCluster{
		t:       t,
		servers: map[uint64]*server{},
		cfgs:    map[uint64]serverConfig{},
		client:  &http.Client{Timeout: 20 * time.Second},
	}
	cluster := map[uint64]string{}
	peerLns := map[uint64]net.Listener{}
	for id := uint64(1); id <= uint64(n); id++ {
		ln := listen(t, "127.0.0.1:0")
		peerLns[id] = ln
		cluster[id] = ln.Addr().String()
	}
	for id := uint64(1); id <= uint64(n); id++ {
		cfg := c.baseConfig(id, cluster)
		if tweak != nil {
			tweak(&cfg)
		}
		c.cfgs[id] = cfg
		c.start(id, peerLns[id])
	}
	t.Cleanup(c.closeAll)
	return c
}

func (c *testCluster) baseConfig(id uint64, cluster map[uint64]string) serverConfig {
	return serverConfig{
		id:             id,
		cluster:        cluster,
		dataDir:        c.t.TempDir(),
		listenClient:   "127.0.0.1:0",
		tick:           10 * time.Millisecond,
		electionTicks:  20,
		heartbeatTicks: 2,
		requestTimeout: 5 * time.Second,
		// raftexample's default; storageMode switches it.
		asyncStorageWrites: true,
		logger:             log.New(testLogWriter{c.t}, fmt.Sprintf("node %d: ", id), log.Lmicroseconds|log.Lmsgprefix),
	}
}

// storageMode is how a test cluster's nodes write to disk: in the node
// loop, before Advance, or with raft's asynchronous storage writes.
type storageMode struct{ async bool }

func (m storageMode) String() string {
	if m.async {
		return "async"
	}
	return "sync"
}

// with returns a configuration tweak that sets the mode, then applies
// tweak (if not nil).
func (m storageMode) with(tweak func(*serverConfig)) func(*serverConfig) {
	return func(cfg *serverConfig) {
		cfg.asyncStorageWrites = m.async
		if tweak != nil {
			tweak(cfg)
		}
	}
}

// forEachStorageMode runs f as a subtest in each storage mode.
func forEachStorageMode(t *testing.T, f func(*testing.T, storageMode)) {
	for _, m := range []storageMode{{async: false}, {async: true}} {
		t.Run(m.String(), func(t *testing.T) { f(t, m) })
	}
}

// start starts node id from its configuration (and data directory).
func (c *testCluster) start(id uint64, peerLn net.Listener) {
	c.t.Helper()
	cfg := c.cfgs[id]
	if peerLn == nil {
		peerLn = listen(c.t, cfg.cluster[id])
	}
	cfg.peerLn = peerLn
	s, err := startServer(cfg)
	if err != nil {
		peerLn.Close()
		c.t.Fatalf("starting node %d: %v", id, err)
	}
	// A restart keeps the client address, so tests can hold on to it.
	cfg.listenClient = s.clientAddr()
	cfg.peerLn = nil
	c.mu.Lock()
	c.cfgs[id] = cfg
	c.servers[id] = s
	c.mu.Unlock()
}

// crash stops node id without flushing pebble, as if killed.
func (c *testCluster) crash(id uint64) {
	c.t.Helper()
	c.mu.Lock()
	s := c.servers[id]
	delete(c.servers, id)
	c.mu.Unlock()
	if err := s.crash(); err != nil {
		c.t.Fatalf("crashing node %d: %v", id, err)
	}
}

func (c *testCluster) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, s := range c.servers {
		if err := s.close(); err != nil {
			c.t.Errorf("closing node %d: %v", id, err)
		}
		delete(c.servers, id)
	}
}

// url returns the HTTP URL of path on node id.
func (c *testCluster) url(id uint64, path string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return "http://" + c.cfgs[id].listenClient + path
}

func (c *testCluster) ids() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for id := range c.servers {
		ids = append(ids, id)
	}
	return ids
}

// do sends a request and returns the status and body.
func (c *testCluster) do(method, url string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must sends a request that must succeed with status want.
func (c *testCluster) must(method, url string, body []byte, want int) []byte {
	c.t.Helper()
	code, b, err := c.do(method, url, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, url, err)
	}
	if code != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, url, code, b, want)
	}
	return b
}

func (c *testCluster) put(id uint64, key, value string) {
	c.t.Helper()
	c.must(http.MethodPut, c.url(id, "/kv/"+key), []byte(value), http.StatusOK)
}

// get reads key on node id and returns its value, or "" and false.
func (c *testCluster) get(id uint64, key string, serializable bool) (string, bool) {
	c.t.Helper()
	u := c.url(id, "/kv/"+key)
	if serializable {
		u += "?serializable=true"
	}
	code, b, err := c.do(http.MethodGet, u, nil)
	switch {
	case err != nil:
		c.t.Fatalf("GET %s: %v", u, err)
	case code == http.StatusNotFound:
		return "", false
	case code != http.StatusOK:
		c.t.Fatalf("GET %s: %d %s", u, code, b)
	}
	return string(b), true
}

// status is the part of /cluster/status the tests look at.
type nodeStatus struct {
	ID      uint64       `json:"id"`
	Leader  uint64       `json:"leader"`
	State   string       `json:"state"`
	Term    uint64       `json:"term"`
	Commit  uint64       `json:"commit"`
	Applied uint64       `json:"applied"`
	Members []memberInfo `json:"members"`
	Removed bool         `json:"removed"`
}

func (c *testCluster) status(id uint64) (nodeStatus, error) {
	var st nodeStatus
	code, b, err := c.do(http.MethodGet, c.url(id, "/cluster/status"), nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("status %d: %s", code, b)
	}
	return st, json.Unmarshal(b, &st)
}

// waitFor polls cond until it returns nil or the deadline passes. The
// cluster runs on real time, so its progress can only be observed.
func waitFor(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLeader waits until every running node names the same leader, which
// is one of them, and returns it.
func (c *testCluster) waitLeader() uint64 {
	c.t.Helper()
	var lead uint64
	waitFor(c.t, "a leader", func() error {
		lead = 0
		ids := c.ids()
		for _, id := range ids {
			st, err := c.status(id)
			if err != nil {
				return err
			}
			if st.Leader == 0 || lead != 0 && st.Leader != lead {
				return fmt.Errorf("node %d sees leader %d", id, st.Leader)
			}
			lead = st.Leader
		}
		for _, id := range ids {
			if id == lead {
				return nil
			}
		}
		return fmt.Errorf("leader %d is not running", lead)
	})
	return lead
}
