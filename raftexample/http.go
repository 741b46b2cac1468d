package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// maxKeyBytes bounds a key. Keys travel in the URL path, which servers and
// proxies limit anyway; a clear 400 beats a confusing failure elsewhere.
const maxKeyBytes = 4096

// maxMemberBody bounds a POST /cluster/members body.
const maxMemberBody = 64 << 10

// readIndexRetry is how often a linearizable read asks again for a read
// index while no answer came: a request made without a leader, or lost on
// the way to it, is dropped by raft without notice.
const readIndexRetry = 200 * time.Millisecond

// errUnavailable marks failures that a retry (on this or another node)
// may cure: 503.
type errUnavailable struct{ msg string }

func (e errUnavailable) Error() string { return e.msg }

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/kv/{key...}", s.handleKey)
	mux.HandleFunc("/kv", s.handleList)
	mux.HandleFunc("/cluster/members", s.handleMembers)
	mux.HandleFunc("/cluster/members/{id}", s.handleMember)
	mux.HandleFunc("/cluster/status", s.handleStatus)
	metrics := s.metrics.handler()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if allowMethods(w, r, http.MethodGet) {
			metrics.ServeHTTP(w, r)
		}
	})
	if s.cfg.enablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s; see /kv/{key}, /kv?prefix=, /cluster/members, /cluster/status, /metrics", r.Method, r.URL.Path))
	})
	return mux
}

// writeJSON writes v as the JSON body of a response with the given code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeErr maps an error from the request paths to a status code.
func writeErr(w http.ResponseWriter, err error) {
	var unavail errUnavailable
	if errors.As(err, &unavail) {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// allowMethods answers 405 unless r's method is one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	allow := ""
	for i, m := range methods {
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	return false
}

// checkServing fails requests on a node that cannot serve them.
func (s *server) checkServing() error {
	if err := s.failed.Load(); err != nil {
		return errUnavailable{fmt.Sprintf("this node stopped: %v", *err)}
	}
	if s.removed.Load() {
		return errUnavailable{"this node was removed from the cluster; send requests to a member"}
	}
	return nil
}

// serializableParam parses ?serializable=.
func serializableParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("serializable")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("serializable=%q: want true or false", v)
	}
	return b, nil
}

func (s *server) handleKey(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodDelete) {
		return
	}
	key := r.PathValue("key")
	switch {
	case key == "":
		writeError(w, http.StatusBadRequest, "empty key: use /kv/{key}, or GET /kv?prefix= to list keys")
		return
	case len(key) > maxKeyBytes:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("key of %d bytes; the limit is %d", len(key), maxKeyBytes))
		return
	}
	if err := s.checkServing(); err != nil {
		writeErr(w, err)
		return
	}
	// Writes time out through their waiter's deadline (see waiters),
	// reads through their context.
	switch r.Method {
	case http.MethodGet:
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.requestTimeout)
		defer cancel()
		s.handleGet(ctx, w, r, key)
	case http.MethodPut:
		s.handlePut(r.Context(), w, r, key)
	case http.MethodDelete:
		res, err := s.proposeCommand(r.Context(), command{op: opDelete, key: key})
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"key": key, "deleted": res.existed, "index": res.index})
	}
}

func (s *server) handleGet(ctx context.Context, w http.ResponseWriter, r *http.Request, key string) {
	serializable, err := serializableParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.readBarrier(ctx, serializable); err != nil {
		writeErr(w, err)
		return
	}
	v, ok := s.kv.get(key)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("key %q not found", key))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(v)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v)
}

func (s *server) handlePut(ctx context.Context, w http.ResponseWriter, r *http.Request, key string) {
	max := s.cfg.maxValueBytes
	if r.ContentLength > max {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("value of %d bytes; the limit is %d (--max-value-bytes)", r.ContentLength, max))
		return
	}
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("value over the limit of %d bytes (--max-value-bytes)", max))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("reading the body: %v", err))
		return
	}
	res, err := s.proposeCommand(ctx, command{op: opPut, key: key, value: value})
	if err != nil {
		writeErr(w, err)
		return
	}
	body := putResponse(key, res.index)
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// putResponse returns the body of a successful PUT: what writeJSON writes
// for {"key": key, "index": index}, built without a map and reflection on
// the hottest path.
func putResponse(key string, index uint64) []byte {
	qkey, _ := json.Marshal(key) // a string always encodes
	body := make([]byte, 0, 32+len(qkey))
	body = append(body, `{"index":`...)
	body = strconv.AppendUint(body, index, 10)
	body = append(body, `,"key":`...)
	body = append(body, qkey...)
	return append(body, "}\n"...)
}

func (s *server) handleList(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	serializable, err := serializableParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.checkServing(); err != nil {
		writeErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.requestTimeout)
	defer cancel()
	if err := s.readBarrier(ctx, serializable); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": s.kv.keys(r.URL.Query().Get("prefix"))})
}

// proposeCommand proposes c and waits until it is applied, at most the
// request timeout, or until ctx (the client's request) ends. It fails with
// errUnavailable when the proposal is dropped or not applied in time; a
// write that timed out may still be applied later, and the error says so.
func (s *server) proposeCommand(ctx context.Context, c command) (applyResult, error) {
	c.reqID = s.ids.get()
	start := time.Now()
	applied := s.writes.registerUntil(c.reqID, start.Add(s.cfg.requestTimeout))
	defer s.writes.cancel(c.reqID)
	p, err := s.batcher.submit(c.marshal())
	res, err := s.awaitApplied(ctx, applied, p, err)
	if err == nil {
		// Without an error the batcher took p, and apply stamped res.
		s.metrics.observeWrite(monoAt(start), p.proposedAt.Load(), res.appliedAt, monoNow())
	}
	return res, err
}

// awaitApplied waits for a proposal's entry to be applied, its result
// arriving on applied, which is closed if the waiter's deadline passes.
// proposeErr is the error of proposing it, if that failed at once. p is
// the proposal if it went through the batcher, which may still report
// that proposing it failed, and which drops it if the wait ends first and
// no batch took it yet; nil for a proposal raft already took. Every
// failure is an errUnavailable that says whether the write may still take
// effect.
func (s *server) awaitApplied(ctx context.Context, applied <-chan applyResult, p *pendingProposal, proposeErr error) (applyResult, error) {
	err := proposeErr
	if err == nil {
		var failed <-chan error // nil: raft took it, nothing more to report
		if p != nil {
			failed = p.done
		}
		expired := false
		select {
		case res, ok := <-applied:
			if !ok {
				expired = true
				break
			}
			if res.err != nil {
				s.metrics.proposals.WithLabelValues("dropped").Inc()
				return res, errUnavailable{fmt.Sprintf("the change was refused when applied: %v", res.err)}
			}
			s.metrics.proposalsApplied.Inc()
			return res, nil
		case err = <-failed:
		case <-ctx.Done():
			expired = true
		}
		if expired {
			if p == nil || s.batcher.abandon(p) {
				s.metrics.proposals.WithLabelValues("timeout").Inc()
				return applyResult{}, errUnavailable{fmt.Sprintf("timed out after %v waiting for the write to be applied; it may or may not take effect", s.cfg.requestTimeout)}
			}
			err = context.DeadlineExceeded
		}
	}
	switch {
	case errors.Is(err, errHandedOff):
		s.metrics.proposals.WithLabelValues("timeout").Inc()
		return applyResult{}, errUnavailable{fmt.Sprintf("timed out after %v before raft took the write; it may or may not take effect", s.cfg.requestTimeout)}
	case errors.Is(err, raft.ErrProposalDropped):
		s.metrics.proposals.WithLabelValues("dropped").Inc()
		return applyResult{}, errUnavailable{"the proposal was dropped (no leader, leadership transfer or overload); nothing was written, retry"}
	default:
		s.metrics.proposals.WithLabelValues("timeout").Inc()
		return applyResult{}, errUnavailable{fmt.Sprintf("no leader accepted the proposal within %v; nothing was written, retry", s.cfg.requestTimeout)}
	}
}

// readBarrier waits until the local state reflects every write
// acknowledged before the call: it obtains a read index from the leader
// (confirmed by a quorum, thesis §6.4) and waits to apply up to it. A
// serializable read skips this and reads whatever is applied locally.
func (s *server) readBarrier(ctx context.Context, serializable bool) error {
	if serializable {
		s.metrics.serializableReads.Inc()
		return nil
	}
	id := s.ids.get()
	rctx := make([]byte, 8)
	binary.BigEndian.PutUint64(rctx, id)
	ch := s.reads.register(id)
	defer s.reads.cancel(id)
	retry := time.NewTicker(readIndexRetry)
	defer retry.Stop()
	fail := func() error {
		s.metrics.reads.WithLabelValues("linearizable", "timeout").Inc()
		return errUnavailable{fmt.Sprintf("no read index from a leader within %v; retry, or read with ?serializable=true", s.cfg.requestTimeout)}
	}
	if err := s.node.ReadIndex(ctx, rctx); err != nil {
		return fail()
	}
	for {
		select {
		case idx := <-ch:
			if err := s.applied.wait(ctx, idx); err != nil {
				return fail()
			}
			s.metrics.linearizableReads.Inc()
			return nil
		case <-retry.C:
			_ = s.node.ReadIndex(ctx, rctx)
		case <-ctx.Done():
			return fail()
		}
	}
}

func decodeReadCtx(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// memberRequest is the body of POST /cluster/members.
type memberRequest struct {
	ID      uint64 `json:"id"`
	PeerURL string `json:"peerURL"`
	Learner bool   `json:"learner"`
}

func (s *server) handleMembers(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	var req memberRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxMemberBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`bad body: %v; want {"id": N, "peerURL": "host:port", "learner": false}`, err))
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad body: trailing data after the JSON object")
		return
	}
	if req.ID == 0 {
		writeError(w, http.StatusBadRequest, `"id" must be a positive integer`)
		return
	}
	addr, err := normalizePeerAddr(req.PeerURL)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"peerURL": %v`, err))
		return
	}
	if s.members.isRemoved(req.ID) {
		writeError(w, http.StatusConflict, fmt.Sprintf("node ID %d belonged to a removed member; IDs are not reused", req.ID))
		return
	}
	if s.members.has(req.ID) {
		writeError(w, http.StatusConflict, fmt.Sprintf("node %d is already a member", req.ID))
		return
	}
	typ := raftpb.ConfChangeAddNode
	if req.Learner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	s.changeMembership(w, r, &raftpb.ConfChange{Type: typ, NodeId: req.ID, Context: []byte(addr)})
}

func (s *server) handleMember(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodDelete) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("member ID %q: want a positive integer", r.PathValue("id")))
		return
	}
	if !s.members.has(id) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("node %d is not a member", id))
		return
	}
	s.changeMembership(w, r, &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeId: id})
}

// changeMembership proposes cc and answers with the new member list once
// it is applied.
func (s *server) changeMembership(w http.ResponseWriter, r *http.Request, cc *raftpb.ConfChange) {
	if err := s.checkServing(); err != nil {
		writeErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.requestTimeout)
	defer cancel()
	cc.Id = s.ids.get()
	applied := s.writes.registerUntil(cc.Id, time.Now().Add(s.cfg.requestTimeout))
	defer s.writes.cancel(cc.Id)
	err := s.node.ProposeConfChange(ctx, cc)
	res, err := s.awaitApplied(ctx, applied, nil, err)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"index": res.index, "members": s.memberList()})
}

// memberInfo describes a member in /cluster/status and membership answers.
type memberInfo struct {
	ID      uint64 `json:"id"`
	PeerURL string `json:"peerURL"`
	Learner bool   `json:"learner"`
}

func (s *server) memberList() []memberInfo {
	learners := map[uint64]bool{}
	for id := range s.node.Status().Config.Learners {
		learners[id] = true
	}
	addrs := s.members.snapshot()
	out := make([]memberInfo, 0, len(addrs))
	for _, id := range s.members.ids() {
		out = append(out, memberInfo{ID: id, PeerURL: addrs[id], Learner: learners[id]})
	}
	return out
}

// progressInfo is one follower's replication state, as the leader sees it.
type progressInfo struct {
	Match  uint64 `json:"match"`
	Next   uint64 `json:"next"`
	State  string `json:"state"`
	Paused bool   `json:"paused"`
}

func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	st := s.node.Status()
	progress := map[string]progressInfo{}
	for id, pr := range st.Progress {
		progress[strconv.FormatUint(id, 10)] = progressInfo{Match: pr.Match, Next: pr.Next, State: pr.State.String(), Paused: pr.IsPaused()}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":       s.cfg.id,
		"leader":   st.Lead,
		"state":    st.RaftState.String(),
		"term":     st.Term,
		"commit":   st.Commit,
		"applied":  s.applied.get(),
		"members":  s.memberList(),
		"progress": progress,
		"removed":  s.removed.Load(),
	})
}
