package main

import (
	"maps"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range []command{
		{op: opPut, reqID: 1, key: "k", value: []byte("v")},
		{op: opPut, reqID: 1 << 63, key: "", value: nil},
		{op: opDelete, reqID: 42, key: "a/b c"},
	} {
		got, err := unmarshalCommand(c.marshal())
		if err != nil || got.op != c.op || got.reqID != c.reqID || got.key != c.key || string(got.value) != string(c.value) {
			t.Errorf("round trip of %+v = %+v, %v", c, got, err)
		}
	}
	for _, b := range [][]byte{
		nil,
		{9},                 // unknown op
		{byte(opPut)},       // no request ID
		{byte(opPut), 1},    // no key length
		{byte(opPut), 1, 5}, // key longer than the rest
		{byte(opPut), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := unmarshalCommand(b); err == nil {
			t.Errorf("unmarshalCommand(%v) accepted a malformed command", b)
		}
	}
}

func TestKVSnapshotRoundTrip(t *testing.T) {
	s := newKVStore()
	s.apply(command{op: opPut, key: "a", value: []byte("1")})
	s.apply(command{op: opPut, key: "b", value: []byte{}})
	ms := memberState{addrs: map[uint64]string{1: "h1:1", 3: "h3:3"}, removed: map[uint64]bool{2: true}}
	data := s.snapshot(ms)

	r := newKVStore()
	r.apply(command{op: opPut, key: "stale", value: []byte("x")})
	got, err := r.restore(data)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.addrs, ms.addrs) || !maps.Equal(got.removed, ms.removed) {
		t.Fatalf("members = %+v, want %+v", got, ms)
	}
	if v, ok := r.get("a"); !ok || string(v) != "1" {
		t.Fatalf("a = %q, %v", v, ok)
	}
	if _, ok := r.get("b"); !ok {
		t.Fatalf("empty value lost")
	}
	if _, ok := r.get("stale"); ok {
		t.Fatalf("restore kept a key the snapshot does not have")
	}
	if string(s.snapshot(ms)) != string(data) {
		t.Fatalf("equal states gave different snapshot bytes")
	}
	// Garbage is refused and leaves the state alone.
	if _, err := r.restore([]byte{0x0a, 0x09, 0x01}); err == nil {
		t.Fatalf("restore accepted garbage")
	}
	if v, _ := r.get("a"); string(v) != "1" {
		t.Fatalf("a failed restore changed the state")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	b := &msgBatch{msgs: []*raftpb.Message{
		{Type: raftpb.MsgApp, From: 1, To: 2, Term: 3, Entries: []*raftpb.Entry{{Index: 4, Term: 3, Data: []byte("x")}}},
		{Type: raftpb.MsgHeartbeat, From: 1, To: 2},
	}}
	data, err := codec{}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var got msgBatch
	if err := (codec{}).Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.msgs) != 2 || got.msgs[0].Entries[0].Index != 4 || got.msgs[1].Type != raftpb.MsgHeartbeat {
		t.Fatalf("round trip: %v", got.msgs)
	}
	if err := (codec{}).Unmarshal([]byte{0x0a, 0x03, 0xff}, &got); err == nil {
		t.Fatalf("a truncated batch decoded")
	}
	if _, err := (codec{}).Marshal(42); err == nil {
		t.Fatalf("marshalled an unknown type")
	}
}
