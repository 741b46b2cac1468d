package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.target != targetRaftexample || c.clients != 64 || c.valueSize != 256 || c.readRatio != 0 ||
		len(c.endpoints) != 3 || c.label != targetRaftexample {
		t.Fatalf("defaults %+v, want raftexample, 64 clients, 256-byte values, writes only, 3 endpoints", c)
	}
	c, err = parseFlags([]string{"-target", "etcd", "-endpoints", " http://a:1/ , https://b:2,", "-read-ratio", "0.5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.endpoints, " ") != "http://a:1 https://b:2" || c.label != "etcd" || c.readRatio != 0.5 {
		t.Fatalf("parsed %+v: want endpoints [http://a:1 https://b:2] (trimmed), label etcd, read ratio 0.5", c)
	}
}

func TestParseFlagsBad(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"-clients", "0"}, "-clients 0"},
		{[]string{"-clients", "x"}, "invalid value"},
		{[]string{"-read-ratio", "1.5"}, "-read-ratio 1.5"},
		{[]string{"-read-ratio", "-0.1"}, "-read-ratio"},
		{[]string{"-read-ratio", "NaN"}, "-read-ratio NaN"},
		{[]string{"-value-size", "-1"}, "-value-size -1"},
		{[]string{"-keys", "0"}, "-keys 0"},
		{[]string{"-duration", "0s"}, "-duration 0s"},
		{[]string{"-duration", "ten"}, "invalid value"},
		{[]string{"-warmup", "-1s"}, "-warmup"},
		{[]string{"-timeout", "0s"}, "-timeout"},
		{[]string{"-target", "redis"}, `-target "redis"`},
		{[]string{"-endpoints", ""}, "at least one endpoint"},
		{[]string{"-endpoints", " , "}, "at least one endpoint"},
		{[]string{"-endpoints", "127.0.0.1:2379"}, "want an http:// or https:// URL"},
		{[]string{"-endpoints", "ftp://h:1"}, "want an http:// or https:// URL"},
		{[]string{"-endpoints", "http://"}, "no host"},
		{[]string{"-endpoints", "http://h:1/?a=b"}, "no query"},
		{[]string{"-endpoints", "http://h:1,http://%zz"}, "-endpoints"},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q): err %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestRealMainExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"-clients", "-3"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-clients -3") {
		t.Fatalf("bad flag: exit %d, stderr %q; want 2 and the reason", code, errb.String())
	}
	errb.Reset()
	if code := realMain([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-read-ratio") {
		t.Fatalf("-h: exit %d, stderr %q; want 0 and the flag list", code, errb.String())
	}
	errb.Reset()
	if code := realMain([]string{"compare", "nofile"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "NAME=FILE") {
		t.Fatalf("compare with a bad argument: exit %d, stderr %q; want 2 and the usage", code, errb.String())
	}
}

// countingServer answers PUT /kv/{key} with 204, or 503 for keys ending
// in 7, and counts the requests it saw.
type countingServer struct {
	ok, failed atomic.Uint64
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/kv/k") {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	if strings.HasSuffix(r.URL.Path, "7") {
		s.failed.Add(1)
		http.Error(w, `{"error":"timed out"}`, http.StatusServiceUnavailable)
		return
	}
	s.ok.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// TestRunAccountsForEveryRequest runs the real client loop against a fake
// server and checks that the figures agree with what the server saw: each
// acknowledged write is one measured op, each 503 one classified error.
func TestRunAccountsForEveryRequest(t *testing.T) {
	cs := &countingServer{}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	cfg := config{
		target: targetRaftexample, endpoints: []string{srv.URL, srv.URL}, clients: 4,
		valueSize: 32, keys: 100, duration: 200 * time.Millisecond, timeout: time.Second,
		seed: 1, label: "fake", cpuPids: []int{os.Getpid()}, // the fake server runs in this process
	}
	var out bytes.Buffer
	s := run(context.Background(), cfg, &out)
	if s.Put.Ops == 0 || s.Put.Ops != cs.ok.Load() {
		t.Fatalf("measured %d puts, server acknowledged %d; want equal and non-zero", s.Put.Ops, cs.ok.Load())
	}
	if s.Put.Errors == 0 || s.Put.Errors != cs.failed.Load() {
		t.Fatalf("counted %d put errors, server failed %d; want equal and non-zero", s.Put.Errors, cs.failed.Load())
	}
	if len(s.Errors) != 1 || s.Errors[0].Class != "HTTP 503" || s.Errors[0].Count != s.Put.Errors ||
		!strings.Contains(s.Errors[0].First, "timed out") {
		t.Fatalf("error classes %+v, want one HTTP 503 class with all %d errors and the body", s.Errors, s.Put.Errors)
	}
	if s.Get.Ops != 0 || s.All.Ops != s.Put.Ops || s.Put.P50 <= 0 || s.Put.P99 < s.Put.P50 || s.Put.P999 < s.Put.P99 {
		t.Fatalf("figures %+v: want no gets, all == put, 0 < p50 <= p99 <= p999", s)
	}
	if s.CPUError != "" || s.ServerCPU < 0 {
		t.Fatalf("server CPU %v, error %q: want a measurement", s.ServerCPU, s.CPUError)
	}
	s.print(&out)
	if !strings.Contains(out.String(), "HTTP 503") || !strings.Contains(out.String(), "p999") {
		t.Fatalf("report lacks the error class or the latency columns:\n%s", out.String())
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	a := &summary{Label: "etcd", Seconds: 1, ServerCPU: 1.5, All: kindSummary{Ops: 1000},
		Put: kindSummary{Ops: 1000, OpsPerSec: 1000, P50: 2 * time.Millisecond, P99: 10 * time.Millisecond}}
	b := &summary{Label: "raftexample", Seconds: 1, ServerCPU: 0.8, All: kindSummary{Ops: 4000},
		Put: kindSummary{Ops: 4000, OpsPerSec: 4000, P50: time.Millisecond, P99: 5 * time.Millisecond}}
	pa, pb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := a.writeJSON(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.writeJSON(pb); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := compare([]string{"etcd=" + pa, "raftexample=" + pb}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"raftexample/etcd", "4.00×", "0.50×", "put p99", "10ms", "5ms",
		"server CPU/request", "1.5ms", "200µs", "0.13×", "server CPU cores", "1.50", "0.80"} {
		if !strings.Contains(got, want) {
			t.Errorf("compare output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "get ops/s") {
		t.Errorf("compare shows get rows for runs without gets:\n%s", got)
	}
	if strings.Contains(got, "target") {
		t.Errorf("compare prints a verdict nobody asked for:\n%s", got)
	}

	// The verdict: 4× the throughput at half the p99 meets 3× and 1×, but
	// not 5×; the reverse order misses both.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-min-put-ratio", "3", "-max-p99-ratio", "1", "etcd=" + pa, "raftexample=" + pb},
			[]string{"4.00× etcd's 1000/s (want ≥ 3.00×): MET", "0.50× etcd's 10ms (want ≤ 1.00×): MET", "target overall: MET"}},
		{[]string{"-min-put-ratio", "5", "-max-p99-ratio", "1", "etcd=" + pa, "raftexample=" + pb},
			[]string{"(want ≥ 5.00×): MISSED", "(want ≤ 1.00×): MET", "target overall: MISSED"}},
		{[]string{"-min-put-ratio", "3", "-max-p99-ratio", "1", "raftexample=" + pb, "etcd=" + pa},
			[]string{"0.25× raftexample's", "2.00× raftexample's 5ms (want ≤ 1.00×): MISSED", "target overall: MISSED"}},
	} {
		out.Reset()
		if err := compare(tc.args, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range tc.want {
			if !strings.Contains(out.String(), want) {
				t.Errorf("compare %q output lacks %q:\n%s", tc.args, want, out.String())
			}
		}
	}
	if err := compare([]string{"-min-put-ratio", "3", "a=" + pa}, io.Discard); err == nil || !strings.Contains(err.Error(), "exactly two") {
		t.Fatalf("verdict with one summary: err %v, want a refusal", err)
	}
	if err := compare([]string{"-min-put-ratio", "x", "a=" + pa}, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("bad compare flag: err %v, want the usage", err)
	}

	// Several runs per column: the figures are per-field medians.
	pc := filepath.Join(dir, "c.json")
	c := &summary{Label: "raftexample", Put: kindSummary{Ops: 1, OpsPerSec: 2000, P50: 9 * time.Millisecond, P99: 90 * time.Millisecond}}
	if err := c.writeJSON(pc); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := compare([]string{"-min-put-ratio", "3", "etcd=" + pa, "raftexample=" + pb + "," + pc + "," + pb}, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "median over the runs (etcd 1, raftexample 3)") || !strings.Contains(got, "4.00× etcd's") {
		t.Errorf("median of (4000, 2000, 4000) ops/s should be 4000, 4.00× etcd's:\n%s", got)
	}
	m := medianSummary([]*summary{c, b, a})
	if m.Put.OpsPerSec != 2000 || m.Put.P99 != 10*time.Millisecond || m.Put.P50 != 2*time.Millisecond {
		t.Errorf("median of three: ops/s %v p99 %v p50 %v, want 2000, 10ms, 2ms (each field on its own)", m.Put.OpsPerSec, m.Put.P99, m.Put.P50)
	}

	if err := os.WriteFile(pa, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := compare([]string{"etcd=" + pa}, io.Discard); err == nil || !strings.Contains(err.Error(), "not a kvbench summary") {
		t.Fatalf("compare of a corrupt file: err %v, want a clear error", err)
	}
	if err := compare([]string{"x=" + filepath.Join(dir, "missing.json")}, io.Discard); err == nil {
		t.Fatal("compare of a missing file: no error")
	}
}
