package raft

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/seed901663da/raft/progress"
)

// statusCluster returns a 3-node network where node 1 leads term 2 and
// every node has applied the leader's empty entry.
func statusCluster(t *testing.T) *testNetwork {
	t.Helper()
	nw := newTestNetwork(t, 3)
	nw.campaign(1)
	if nw.leader() != 1 {
		t.Fatal("node 1 did not become leader")
	}
	return nw
}

// jsonKeys decodes a JSON object and returns its keys, sorted.
func jsonKeys(t *testing.T, b []byte) (map[string]any, []string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m, slices.Sorted(maps.Keys(m))
}

func TestBasicStatusJSON(t *testing.T) {
	nw := statusCluster(t)
	b, err := json.Marshal(nw.nodes[1].rn.BasicStatus())
	if err != nil {
		t.Fatal(err)
	}
	m, keys := jsonKeys(t, b)
	want := []string{"applied", "commit", "id", "lead", "lead_transferee", "raft_state", "term", "vote"}
	if !slices.Equal(keys, want) {
		t.Fatalf("BasicStatus JSON keys %v, want %v (%s)", keys, want, b)
	}
	// Numbers are numbers, the role is spelled out.
	for k, v := range map[string]any{"id": 1.0, "term": 2.0, "vote": 1.0, "commit": 4.0, "applied": 4.0,
		"lead": 1.0, "lead_transferee": 0.0, "raft_state": "StateLeader"} {
		if m[k] != v {
			t.Errorf("%s = %v (%T), want %v (%T) in %s", k, m[k], m[k], v, v, b)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	nw := statusCluster(t)

	// The leader's status carries the configuration and its followers'
	// progress, keyed by ID.
	b, err := json.Marshal(nw.nodes[1].rn.Status())
	if err != nil {
		t.Fatal(err)
	}
	m, keys := jsonKeys(t, b)
	want := []string{"applied", "commit", "config", "id", "lead", "lead_transferee", "progress", "raft_state", "term", "vote"}
	if !slices.Equal(keys, want) {
		t.Fatalf("leader Status JSON keys %v, want %v (%s)", keys, want, b)
	}
	if m["config"] != "voters=(1 2 3)" {
		t.Errorf("config = %v, want voters=(1 2 3)", m["config"])
	}
	progress, ok := m["progress"].(map[string]any)
	if !ok || !slices.Equal(slices.Sorted(maps.Keys(progress)), []string{"1", "2", "3"}) {
		t.Fatalf("progress = %v, want entries for 1, 2 and 3", m["progress"])
	}
	p2, _ := progress["2"].(map[string]any)
	if p2["match"] != 4.0 || p2["next"] != 5.0 || p2["state"] != "StateReplicate" {
		t.Errorf("progress of 2 = %v, want match 4, next 5, StateReplicate", p2)
	}
	if _, ok := p2["learner"]; ok {
		t.Errorf("a voter's progress has a learner field: %v", p2)
	}

	// A follower has no progress to report.
	b, err = json.Marshal(nw.nodes[2].rn.Status())
	if err != nil {
		t.Fatal(err)
	}
	m, _ = jsonKeys(t, b)
	if _, ok := m["progress"]; ok || m["raft_state"] != "StateFollower" || m["lead"] != 1.0 {
		t.Errorf("follower Status JSON: %s", b)
	}
}

func TestStatusString(t *testing.T) {
	nw := statusCluster(t)
	bs := nw.nodes[2].rn.BasicStatus().String()
	if want := "id=2 term=2 vote=1 commit=4 applied=4 lead=1 state=StateFollower"; bs != want {
		t.Errorf("BasicStatus.String() = %q, want %q", bs, want)
	}
	s := nw.nodes[1].rn.Status().String()
	lines := strings.Split(s, "\n")
	if len(lines) != 4 {
		t.Fatalf("leader Status.String() has %d lines, want a header and one per peer:\n%s", len(lines), s)
	}
	if want := "id=1 term=2 vote=1 commit=4 applied=4 lead=1 state=StateLeader config=voters=(1 2 3)"; lines[0] != want {
		t.Errorf("header %q, want %q", lines[0], want)
	}
	for i, id := range []string{"1", "2", "3"} {
		if l := lines[i+1]; !strings.HasPrefix(l, "  "+id+": ") || !strings.Contains(l, "StateReplicate") || !strings.Contains(l, "match=4") {
			t.Errorf("progress line %q, want peer %s replicating with match=4", l, id)
		}
	}
}

func TestBasicStatusDoesNotAllocate(t *testing.T) {
	nw := statusCluster(t)
	rn := nw.nodes[1].rn
	var st BasicStatus
	if allocs := testing.AllocsPerRun(100, func() { st = rn.BasicStatus() }); allocs != 0 {
		t.Fatalf("BasicStatus allocates %.1f times per call, want 0", allocs)
	}
	_ = st
}

func TestWithProgress(t *testing.T) {
	nw := statusCluster(t)
	var ids []uint64
	nw.nodes[1].rn.WithProgress(func(id uint64, typ ProgressType, pr progress.Progress) {
		ids = append(ids, id)
		if typ != ProgressTypePeer || pr.Match != 4 {
			t.Errorf("%d: type %d match %d, want a peer with match 4", id, typ, pr.Match)
		}
	})
	if !slices.Equal(ids, []uint64{1, 2, 3}) {
		t.Fatalf("visited %v, want 1 2 3 in order", ids)
	}
	nw.nodes[2].rn.WithProgress(func(id uint64, _ ProgressType, _ progress.Progress) {
		t.Errorf("a follower visited progress of %d", id)
	})
}
