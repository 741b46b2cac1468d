package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// A target speaks one server's key-value protocol. Its methods are safe for
// concurrent use; each call is one HTTP round trip to endpoint (a base URL
// such as http://127.0.0.1:2379, without a trailing slash) over c.
type target interface {
	// put stores value under key and returns nil once the server has
	// acknowledged the write.
	put(ctx context.Context, c exchanger, endpoint, key string, value []byte) error
	// get reads key; found is false when the server says the key does not
	// exist, which is a successful read, not an error.
	get(ctx context.Context, c exchanger, endpoint, key string) (found bool, err error)
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

// newStatusError keeps the start of rep's body in a statusError.
func newStatusError(rep reply) error {
	b := rep.body
	if len(b) > errorBodyLimit {
		b = b[:errorBodyLimit]
	}
	return &statusError{code: rep.status, body: strings.TrimSpace(string(b))}
}

// raftexampleTarget speaks raftexample's HTTP API: PUT /kv/{key} with the
// value as the body, GET /kv/{key} answering 200 with the value or 404.
type raftexampleTarget struct {
	serializable bool
}

// kvPath returns the path of key below an endpoint. The key is
// path-escaped, so a key holding '/' or '?' stays one path segment.
func kvPath(key string) string {
	return "/kv/" + url.PathEscape(key)
}

func (t raftexampleTarget) newPut(key string, value []byte) *request {
	return &request{method: http.MethodPut, path: kvPath(key), contentType: "application/octet-stream", body: value}
}

func (t raftexampleTarget) newGet(key string) *request {
	p := kvPath(key)
	if t.serializable {
		p += "?serializable=true"
	}
	return &request{method: http.MethodGet, path: p}
}

func (t raftexampleTarget) put(ctx context.Context, c exchanger, endpoint, key string, value []byte) error {
	rep, err := c.exchange(ctx, endpoint, t.newPut(key, value))
	if err != nil {
		return err
	}
	if rep.status < 200 || rep.status > 299 {
		return newStatusError(rep)
	}
	return nil
}

func (t raftexampleTarget) get(ctx context.Context, c exchanger, endpoint, key string) (bool, error) {
	rep, err := c.exchange(ctx, endpoint, t.newGet(key))
	if err != nil {
		return false, err
	}
	switch {
	case rep.status == http.StatusNotFound:
		return false, nil
	case rep.status < 200 || rep.status > 299:
		return false, newStatusError(rep)
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

func (t etcdTarget) newPost(path string, body any) (*request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return &request{method: http.MethodPost, path: path, contentType: "application/json", body: b}, nil
}

func (t etcdTarget) newPut(key string, value []byte) (*request, error) {
	return t.newPost("/v3/kv/put", etcdPutRequest{
		Key:   base64.StdEncoding.EncodeToString([]byte(key)),
		Value: base64.StdEncoding.EncodeToString(value),
	})
}

func (t etcdTarget) newGet(key string) (*request, error) {
	return t.newPost("/v3/kv/range", etcdRangeRequest{
		Key:          base64.StdEncoding.EncodeToString([]byte(key)),
		Serializable: t.serializable,
	})
}

func (t etcdTarget) put(ctx context.Context, c exchanger, endpoint, key string, value []byte) error {
	req, err := t.newPut(key, value)
	if err != nil {
		return err
	}
	rep, err := c.exchange(ctx, endpoint, req)
	if err != nil {
		return err
	}
	if rep.status != http.StatusOK {
		return newStatusError(rep)
	}
	return nil
}

func (t etcdTarget) get(ctx context.Context, c exchanger, endpoint, key string) (bool, error) {
	req, err := t.newGet(key)
	if err != nil {
		return false, err
	}
	rep, err := c.exchange(ctx, endpoint, req)
	if err != nil {
		return false, err
	}
	if rep.status != http.StatusOK {
		return false, newStatusError(rep)
	}
	var rr etcdRangeResponse
	if err := json.Unmarshal(rep.body, &rr); err != nil {
		return false, fmt.Errorf("decoding range response: %w", err)
	}
	return len(rr.Kvs) > 0, nil
}
