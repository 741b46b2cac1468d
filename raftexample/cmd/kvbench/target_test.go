package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRaftexample is an in-memory server speaking raftexample's /kv API,
// strict about what a client must send.
type fakeRaftexample struct {
	mu    sync.Mutex
	data  map[string]string
	reads []string // raw query of each GET
	fail  int      // when non-zero, every request gets this status
}

func (f *fakeRaftexample) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != 0 {
		http.Error(w, `{"error":"injected failure"}`, f.fail)
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, "/kv/")
	if !ok || key == "" {
		http.Error(w, `{"error":"no such route"}`, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.data[key] = string(b)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		f.reads = append(f.reads, r.URL.RawQuery)
		v, ok := f.data[key]
		if !ok {
			http.Error(w, `{"error":"key not found"}`, http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, v)
	default:
		http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
	}
}

// stored returns the value under key; the test reads it under the lock
// because the race detector cannot see the ordering a reply over TCP gives.
func (f *fakeRaftexample) stored(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data[key]
}

func (f *fakeRaftexample) readQueries() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.reads, ",")
}

func TestRaftexampleTargetRoundTrip(t *testing.T) {
	fake := &fakeRaftexample{data: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()

	for _, serializable := range []bool{false, true} {
		tgt, err := newTarget(targetRaftexample, serializable)
		if err != nil {
			t.Fatal(err)
		}
		// A key with '/' and '?' must stay one path segment.
		key := "dir/k?1"
		if err := tgt.put(ctx, newConnClient(time.Second), srv.URL, key, []byte("value-1")); err != nil {
			t.Fatalf("put: %v", err)
		}
		if got := fake.stored(key); got != "value-1" {
			t.Fatalf("server stored %q under %q, want value-1", got, key)
		}
		found, err := tgt.get(ctx, newConnClient(time.Second), srv.URL, key)
		if err != nil || !found {
			t.Fatalf("get of a stored key: found=%v err=%v, want found", found, err)
		}
		found, err = tgt.get(ctx, newConnClient(time.Second), srv.URL, "missing")
		if err != nil || found {
			t.Fatalf("get of a missing key: found=%v err=%v, want not found and no error", found, err)
		}
	}
	want := []string{"", "", "serializable=true", "serializable=true"}
	if got := fake.readQueries(); got != strings.Join(want, ",") {
		t.Fatalf("read queries %q, want %q", got, want)
	}
}

func TestRaftexampleTargetErrors(t *testing.T) {
	fake := &fakeRaftexample{data: map[string]string{}, fail: http.StatusServiceUnavailable}
	srv := httptest.NewServer(fake)
	tgt, _ := newTarget(targetRaftexample, false)
	ctx := context.Background()

	err := tgt.put(ctx, newConnClient(time.Second), srv.URL, "k", []byte("v"))
	var se *statusError
	if !errors.As(err, &se) || se.code != http.StatusServiceUnavailable || !strings.Contains(se.body, "injected failure") {
		t.Fatalf("put against a 503 server: err %v, want a statusError 503 with the body", err)
	}
	if classify(err) != "HTTP 503" {
		t.Fatalf("classify(%v) = %q, want HTTP 503", err, classify(err))
	}
	if _, err := tgt.get(ctx, newConnClient(time.Second), srv.URL, "k"); !errors.As(err, &se) || se.code != 503 {
		t.Fatalf("get against a 503 server: err %v, want a statusError 503", err)
	}

	// A server that is gone is a transport error, not a status.
	url := srv.URL
	srv.Close()
	err = tgt.put(ctx, newConnClient(time.Second), url, "k", []byte("v"))
	if err == nil || errors.As(err, &se) {
		t.Fatalf("put to a closed server: err %v, want a transport error", err)
	}
	if c := classify(err); c != "connection refused" {
		t.Fatalf("classify(%v) = %q, want connection refused", err, c)
	}
}

// fakeEtcd is an in-memory server speaking the two calls of etcd's v3 JSON
// gateway that kvbench uses, decoding keys and values as the gateway does.
type fakeEtcd struct {
	mu           sync.Mutex
	data         map[string]string
	serializable []bool
	badRange     bool // answer ranges with a body that is not JSON
}

func (f *fakeEtcd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error":"want a JSON POST","code":3}`, http.StatusBadRequest)
		return
	}
	var req struct {
		Key          []byte `json:"key"` // encoding/json reads base64 into []byte
		Value        []byte `json:"value"`
		Serializable bool   `json:"serializable"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, `{"error":"bad body","code":3}`, http.StatusBadRequest)
		return
	}
	header := map[string]any{"header": map[string]string{"revision": "2"}}
	switch r.URL.Path {
	case "/v3/kv/put":
		f.data[string(req.Key)] = string(req.Value)
		_ = json.NewEncoder(w).Encode(header)
	case "/v3/kv/range":
		f.serializable = append(f.serializable, req.Serializable)
		if f.badRange {
			_, _ = io.WriteString(w, "<html>")
			return
		}
		v, ok := f.data[string(req.Key)]
		if ok {
			header["kvs"] = []map[string][]byte{{"key": req.Key, "value": []byte(v)}}
			header["count"] = "1"
		}
		_ = json.NewEncoder(w).Encode(header)
	default:
		http.Error(w, `{"error":"Not Found","code":5}`, http.StatusNotFound)
	}
}

func (f *fakeEtcd) stored(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data[key]
}

func (f *fakeEtcd) serializableFlags() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.serializable...)
}

func TestEtcdTargetRoundTrip(t *testing.T) {
	fake := &fakeEtcd{data: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	value := []byte("\x00binary\xff value!!") // 16 bytes: base64 needs padding

	for _, serializable := range []bool{false, true} {
		tgt, err := newTarget(targetEtcd, serializable)
		if err != nil {
			t.Fatal(err)
		}
		if err := tgt.put(ctx, newConnClient(time.Second), srv.URL, "k/1", value); err != nil {
			t.Fatalf("put: %v", err)
		}
		if got := fake.stored("k/1"); got != string(value) {
			t.Fatalf("server decoded value %q, want %q", got, value)
		}
		found, err := tgt.get(ctx, newConnClient(time.Second), srv.URL, "k/1")
		if err != nil || !found {
			t.Fatalf("range of a stored key: found=%v err=%v, want found", found, err)
		}
		found, err = tgt.get(ctx, newConnClient(time.Second), srv.URL, "nope")
		if err != nil || found {
			t.Fatalf("range of a missing key: found=%v err=%v, want not found and no error", found, err)
		}
	}
	want := []bool{false, false, true, true}
	if got := fake.serializableFlags(); !slices.Equal(got, want) {
		t.Fatalf("serializable flags %v, want %v", got, want)
	}
}

func TestEtcdRequestBodies(t *testing.T) {
	tgt := etcdTarget{}
	req, err := tgt.newPut("key", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	wantBody := `{"key":"` + base64.StdEncoding.EncodeToString([]byte("key")) + `","value":"` +
		base64.StdEncoding.EncodeToString([]byte("value")) + `"}`
	if req.method != http.MethodPost || req.path != "/v3/kv/put" || req.contentType != "application/json" || string(req.body) != wantBody {
		t.Fatalf("put request %+v, want POST /v3/kv/put application/json %s", req, wantBody)
	}
	req, err = tgt.newGet("key")
	if err != nil {
		t.Fatal(err)
	}
	if req.path != "/v3/kv/range" || string(req.body) != `{"key":"a2V5"}` {
		t.Fatalf("range request %s %s, want /v3/kv/range {\"key\":\"a2V5\"}", req.path, req.body)
	}
}

func TestEtcdTargetErrors(t *testing.T) {
	fake := &fakeEtcd{data: map[string]string{}, badRange: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	tgt, _ := newTarget(targetEtcd, false)
	ctx := context.Background()
	if _, err := tgt.get(ctx, newConnClient(time.Second), srv.URL, "k"); err == nil || !strings.Contains(err.Error(), "decoding range response") {
		t.Fatalf("range with a non-JSON reply: err %v, want a decoding error", err)
	}
	// The gateway's own error replies are statuses with a JSON body.
	err := tgt.put(ctx, newConnClient(time.Second), srv.URL+"/wrong", "k", nil)
	var se *statusError
	if !errors.As(err, &se) || se.code != http.StatusNotFound || !strings.Contains(err.Error(), "Not Found") {
		t.Fatalf("put to a bad path: err %v, want a 404 statusError carrying the body", err)
	}
}

func TestNewTargetUnknown(t *testing.T) {
	if _, err := newTarget("zookeeper", false); err == nil || !strings.Contains(err.Error(), "zookeeper") {
		t.Fatalf("newTarget(zookeeper): err %v, want an error naming it", err)
	}
}
