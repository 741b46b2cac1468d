package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// A target speaks one server's key-value protocol. Its methods are safe for
// concurrent use; each call is one HTTP round trip to endpoint (a base URL
// such as http://127.0.0.1:2379, without a trailing slash).
type target interface {
	// put stores value under key and returns nil once the server has
	// acknowledged the write.
	put(ctx context.Context, c doer, endpoint, key string, value []byte) error
	// get reads key; found is false when the server says the key does not
	// exist, which is a successful read, not an error.
	get(ctx context.Context, c doer, endpoint, key string) (found bool, err error)
}

// Target names for -target.
const (
	targetRaftexample = "raftexample"
	targetEtcd        = "etcd"
)

// newTarget returns the protocol named by name. serializable asks for reads
// served by the contacted node alone instead of linearizable ones.
func newTarget(name string, serializable bool) (target, error) {
	switch name {
	case targetRaftexample:
		return raftexampleTarget{serializable: serializable}, nil
	case targetEtcd:
		return etcdTarget{serializable: serializable}, nil
	}
	return nil, fmt.Errorf("unknown -target %q (want %q or %q)", name, targetRaftexample, targetEtcd)
}

// statusError is a reply with an unexpected HTTP status.
type statusError struct {
	code int
	body string // the start of the reply body, for the error report
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// errorBodyLimit bounds how much of an error reply is kept for the report.
const errorBodyLimit = 200

// newStatusError reads the start of resp's body into a statusError.
func newStatusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	return &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(b))}
}

// send sends req, as a newPut or newGet returned it with err, on c. The
// caller finishes the response.
func send(c doer, req *http.Request, err error) (*http.Response, error) {
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// finish drains and closes resp's body so that the connection is reused.
func finish(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// raftexampleTarget speaks raftexample's HTTP API: PUT /kv/{key} with the
// value as the body, GET /kv/{key} answering 200 with the value or 404.
type raftexampleTarget struct {
	serializable bool
}

// kvURL returns the URL of key on endpoint. The key is path-escaped, so a
// key holding '/' or '?' stays one path segment.
func kvURL(endpoint, key string) string {
	return endpoint + "/kv/" + url.PathEscape(key)
}

func (t raftexampleTarget) newPut(ctx context.Context, endpoint, key string, value []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, kvURL(endpoint, key), bytes.NewReader(value))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	return req, nil
}

func (t raftexampleTarget) newGet(ctx context.Context, endpoint, key string) (*http.Request, error) {
	u := kvURL(endpoint, key)
	if t.serializable {
		u += "?serializable=true"
	}
	return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
}

func (t raftexampleTarget) put(ctx context.Context, c doer, endpoint, key string, value []byte) error {
	req, err := t.newPut(ctx, endpoint, key, value)
	resp, err := send(c, req, err)
	if err != nil {
		return err
	}
	defer finish(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newStatusError(resp)
	}
	return nil
}

func (t raftexampleTarget) get(ctx context.Context, c doer, endpoint, key string) (bool, error) {
	req, err := t.newGet(ctx, endpoint, key)
	resp, err := send(c, req, err)
	if err != nil {
		return false, err
	}
	defer finish(resp)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, newStatusError(resp)
	}
	return true, nil
}

// etcdTarget speaks etcd's v3 JSON gateway (grpc-gateway over the KV
// service): POST /v3/kv/put and /v3/kv/range, with keys and values in
// base64 as protobuf's JSON mapping writes bytes fields.
type etcdTarget struct {
	serializable bool
}

// etcdPutRequest and etcdRangeRequest are the JSON forms of etcd's
// PutRequest and RangeRequest, limited to the fields kvbench sets.
type etcdPutRequest struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type etcdRangeRequest struct {
	Key          string `json:"key"`
	Serializable bool   `json:"serializable,omitempty"`
}

// etcdRangeResponse is the part of RangeResponse kvbench reads. The gateway
// leaves out empty fields, so a missing key gives no "kvs" at all.
type etcdRangeResponse struct {
	Kvs []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"kvs"`
}

func (t etcdTarget) newPost(ctx context.Context, endpoint, path string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func (t etcdTarget) newPut(ctx context.Context, endpoint, key string, value []byte) (*http.Request, error) {
	return t.newPost(ctx, endpoint, "/v3/kv/put", etcdPutRequest{
		Key:   base64.StdEncoding.EncodeToString([]byte(key)),
		Value: base64.StdEncoding.EncodeToString(value),
	})
}

func (t etcdTarget) newGet(ctx context.Context, endpoint, key string) (*http.Request, error) {
	return t.newPost(ctx, endpoint, "/v3/kv/range", etcdRangeRequest{
		Key:          base64.StdEncoding.EncodeToString([]byte(key)),
		Serializable: t.serializable,
	})
}

func (t etcdTarget) put(ctx context.Context, c doer, endpoint, key string, value []byte) error {
	req, err := t.newPut(ctx, endpoint, key, value)
	resp, err := send(c, req, err)
	if err != nil {
		return err
	}
	defer finish(resp)
	if resp.StatusCode != http.StatusOK {
		return newStatusError(resp)
	}
	return nil
}

func (t etcdTarget) get(ctx context.Context, c doer, endpoint, key string) (bool, error) {
	req, err := t.newGet(ctx, endpoint, key)
	resp, err := send(c, req, err)
	if err != nil {
		return false, err
	}
	defer finish(resp)
	if resp.StatusCode != http.StatusOK {
		return false, newStatusError(resp)
	}
	var rr etcdRangeResponse
	if err := json.NewDecoder(resp.Body).Decode(&rr); err != nil {
		return false, fmt.Errorf("decoding range response: %w", err)
	}
	return len(rr.Kvs) > 0, nil
}
