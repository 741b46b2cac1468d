package main

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPBadInput sends every endpoint requests it must refuse, and checks
// the status code and that the error is a JSON object naming the problem.
func TestHTTPBadInput(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *serverConfig) { cfg.maxValueBytes = 16 })
	c.waitLeader()
	c.put(1, "present", "v")
	for _, tc := range []struct {
		method, path, body string
		want               int
		wantMsg            string
	}{
		// Routes.
		{"GET", "/", "", 404, "no route"},
		{"GET", "/nope", "", 404, "no route"},
		{"GET", "/kvx/a", "", 404, "no route"},
		{"GET", "/cluster", "", 404, "no route"},
		// /kv/{key}
		{"GET", "/kv/", "", 400, "empty key"},
		{"PUT", "/kv/", "v", 400, "empty key"},
		{"GET", "/kv/" + strings.Repeat("k", maxKeyBytes+1), "", 400, "limit"},
		{"POST", "/kv/a", "v", 405, "not allowed"},
		{"PATCH", "/kv/a", "v", 405, "not allowed"},
		{"GET", "/kv/absent", "", 404, "not found"},
		{"GET", "/kv/absent?serializable=true", "", 404, "not found"},
		{"GET", "/kv/present?serializable=maybe", "", 400, "serializable"},
		{"PUT", "/kv/big", strings.Repeat("x", 17), 413, "limit"},
		// /kv?prefix=
		{"POST", "/kv", "", 405, "not allowed"},
		{"DELETE", "/kv", "", 405, "not allowed"},
		{"GET", "/kv?serializable=2", "", 400, "serializable"},
		// /cluster/members
		{"GET", "/cluster/members", "", 405, "not allowed"},
		{"POST", "/cluster/members", "", 400, "bad body"},
		{"POST", "/cluster/members", "{", 400, "bad body"},
		{"POST", "/cluster/members", `{"id": "two", "peerURL": "127.0.0.1:1"}`, 400, "bad body"},
		{"POST", "/cluster/members", `{"id": 2, "peerURL": "127.0.0.1:1", "extra": 1}`, 400, "unknown field"},
		{"POST", "/cluster/members", `{"id": 2, "peerURL": "127.0.0.1:1"} {}`, 400, "trailing"},
		{"POST", "/cluster/members", `{"id": 0, "peerURL": "127.0.0.1:1"}`, 400, "positive"},
		{"POST", "/cluster/members", `{"id": -1, "peerURL": "127.0.0.1:1"}`, 400, "bad body"},
		{"POST", "/cluster/members", `{"id": 2}`, 400, "peerURL"},
		{"POST", "/cluster/members", `{"id": 2, "peerURL": "no-port"}`, 400, "peerURL"},
		{"POST", "/cluster/members", `{"id": 2, "peerURL": "127.0.0.1:99999"}`, 400, "port"},
		{"POST", "/cluster/members", `{"id": 1, "peerURL": "127.0.0.1:1"}`, 409, "already a member"},
		{"POST", "/cluster/members", `{"id": 2, "peerURL": "127.0.0.1:1", "learner": "yes"}`, 400, "bad body"},
		// /cluster/members/{id}
		{"GET", "/cluster/members/1", "", 405, "not allowed"},
		{"DELETE", "/cluster/members/abc", "", 400, "positive integer"},
		{"DELETE", "/cluster/members/0", "", 400, "positive integer"},
		{"DELETE", "/cluster/members/-3", "", 400, "positive integer"},
		{"DELETE", "/cluster/members/99", "", 404, "not a member"},
		// /cluster/status, /metrics
		{"POST", "/cluster/status", "", 405, "not allowed"},
		{"DELETE", "/metrics", "", 405, "not allowed"},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequest(tc.method, c.url(1, tc.path), body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		var e struct{ Error string }
		decErr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tc.want || decErr != nil || !strings.Contains(e.Error, tc.wantMsg) {
			t.Errorf("%s %.40s %.60q: %d %q (decode: %v); want %d with an error mentioning %q",
				tc.method, tc.path, tc.body, resp.StatusCode, e.Error, decErr, tc.want, tc.wantMsg)
		}
	}
	// A chunked body (no Content-Length) over the limit is caught while
	// reading.
	req, _ := http.NewRequest(http.MethodPut, c.url(1, "/kv/big"), io.MultiReader(strings.NewReader(strings.Repeat("y", 10)), strings.NewReader(strings.Repeat("y", 10))))
	req.ContentLength = -1
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked PUT over the limit: %d, want 413", resp.StatusCode)
	}
	// Nothing refused was written, and a value at the limit is accepted.
	if _, ok := c.get(1, "big", false); ok {
		t.Fatalf("an oversized value was stored")
	}
	c.put(1, "big", strings.Repeat("x", 16))
}

// TestMetrics checks that /metrics exposes the counters the issue asks for
// and that they move.
func TestMetrics(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.waitLeader()
	c.put(1, "a", "1")
	c.get(1, "a", false)
	c.get(1, "a", true)
	b := string(c.must(http.MethodGet, c.url(1, "/metrics"), nil, http.StatusOK))
	for name, want := range map[string]float64{
		`raftexample_proposals_total{result="applied"}`:            1,
		`raftexample_reads_total{kind="linearizable",result="ok"}`: 1,
		`raftexample_reads_total{kind="serializable",result="ok"}`: 1,
		// The bootstrap conf change, the leader's empty entry, the put.
		"raftexample_committed_entries_total": 3,
		"raftexample_applied_index":           3,
		"raftexample_leader_changes_total":    1,
		"raftexample_is_leader":               1,
	} {
		if got, ok := metricValue(b, name); !ok || got != want {
			t.Errorf("/metrics: %s = %v (found: %v), want %v", name, got, ok, want)
		}
	}
	// The put's stages, one observation each, add up to its whole write
	// duration: they are timed from the same clock readings.
	stageSum := 0.0
	for _, stage := range []string{"batch", "replicate", "respond"} {
		name := `raftexample_write_stage_duration_seconds_count{stage="` + stage + `"}`
		if got, ok := metricValue(b, name); !ok || got != 1 {
			t.Errorf("/metrics: %s = %v (found: %v), want 1", name, got, ok)
		}
		sum, _ := metricValue(b, `raftexample_write_stage_duration_seconds_sum{stage="`+stage+`"}`)
		if sum < 0 {
			t.Errorf("/metrics: stage %s took %vs", stage, sum)
		}
		stageSum += sum
	}
	if write, _ := metricValue(b, "raftexample_write_duration_seconds_sum"); stageSum <= 0 || math.Abs(stageSum-write) > 1e-9 {
		t.Errorf("/metrics: the write's stages add up to %vs, its whole duration is %vs", stageSum, write)
	}
	if got, ok := metricValue(b, "raftexample_apply_duration_seconds_count"); !ok || got == 0 {
		t.Errorf("/metrics: no apply durations observed (found: %v)", ok)
	}
	// Snapshots are taken off the node loop, so the count may still be 0;
	// the series exists from the start.
	if _, ok := metricValue(b, `raftexample_snapshots_total{event="created"}`); !ok {
		t.Errorf("/metrics lacks snapshots_total{event=\"created\"}")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", b)
	}
}

// metricValue returns the value of the sample name (labels included) in
// the Prometheus text exposition b.
func metricValue(b, name string) (float64, bool) {
	for line := range strings.Lines(b) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestPutResponse checks that the hand-built PUT reply is byte for byte
// what writeJSON writes for the same fields, quoting included.
func TestPutResponse(t *testing.T) {
	for _, key := range []string{"k1", `a"b\c`, "<tag>&amp;", "tab\there\x01", "é€", "bad\xffutf8"} {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, map[string]any{"key": key, "index": uint64(1234567)})
		if got, want := string(putResponse(key, 1234567)), rec.Body.String(); got != want {
			t.Errorf("putResponse(%q) = %q, writeJSON writes %q", key, got, want)
		}
	}
}
