package main

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// members is the cluster as the state machine knows it: each member's
// peer address. It changes when a conf change entry is applied (the
// address travels in the change's context) or a snapshot is restored.
// Learner status is raft's business and read from raft's status.
type members struct {
	mu    sync.RWMutex
	addrs map[uint64]string
	// removed holds the IDs of removed members. They are never reused, so
	// that a message from one is known to come from a node that was
	// removed, and the node can be told so (see transport.checkIncoming).
	removed map[uint64]bool
}

func newMembers(initial map[uint64]string) *members {
	return &members{addrs: maps.Clone(initial), removed: map[uint64]bool{}}
}

// memberState is the membership as recorded in a snapshot.
type memberState struct {
	addrs   map[uint64]string
	removed map[uint64]bool
}

func (m *members) isRemoved(id uint64) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.removed[id]
}

func (m *members) addr(id uint64) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.addrs[id]
	return a, ok
}

func (m *members) has(id uint64) bool {
	_, ok := m.addr(id)
	return ok
}

func (m *members) set(id uint64, addr string) {
	m.mu.Lock()
	m.addrs[id] = addr
	m.mu.Unlock()
}

func (m *members) remove(id uint64) {
	m.mu.Lock()
	delete(m.addrs, id)
	m.removed[id] = true
	m.mu.Unlock()
}

func (m *members) replace(st memberState) {
	m.mu.Lock()
	m.addrs = maps.Clone(st.addrs)
	m.removed = maps.Clone(st.removed)
	m.mu.Unlock()
}

func (m *members) snapshot() map[uint64]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.addrs)
}

func (m *members) state() memberState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return memberState{addrs: maps.Clone(m.addrs), removed: maps.Clone(m.removed)}
}

func (m *members) ids() []uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.addrs))
}

// parseCluster parses a --cluster value: comma-separated id=host:port
// pairs, for example "1=127.0.0.1:12391,2=127.0.0.1:12392". A scheme
// prefix (http://, https://, grpc://) is accepted and dropped.
func parseCluster(s string) (map[uint64]string, error) {
	out := make(map[uint64]string)
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty cluster list")
	}
	for _, part := range strings.Split(s, ",") {
		idStr, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("cluster member %q: want id=host:port", part)
		}
		id, err := strconv.ParseUint(idStr, 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("cluster member %q: the ID must be a positive integer", part)
		}
		addr, err = normalizePeerAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("cluster member %q: %v", part, err)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("cluster member %d listed twice", id)
		}
		out[id] = addr
	}
	return out, nil
}

// normalizePeerAddr checks a peer address and strips a URL scheme.
func normalizePeerAddr(addr string) (string, error) {
	for _, scheme := range []string{"http://", "https://", "grpc://"} {
		addr = strings.TrimPrefix(addr, scheme)
	}
	addr = strings.TrimSuffix(addr, "/")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("peer address %q: want host:port", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("peer address %q: bad port", addr)
	}
	if host == "" {
		return "", fmt.Errorf("peer address %q: missing host", addr)
	}
	return addr, nil
}
