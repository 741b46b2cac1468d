package main

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// testBatch returns a batch of n appends of 4 entries of 256 bytes, the
// shape of a busy leader's stream to one follower.
func testBatch(n uint64) *msgBatch {
	var batch msgBatch
	for i := range n {
		m := &raftpb.Message{Type: raftpb.MsgApp, To: 2, From: 1, Term: 3, Index: 4 * i, LogTerm: 3, Commit: 4 * i}
		for j := range uint64(4) {
			m.Entries = append(m.Entries, &raftpb.Entry{Term: 3, Index: 4*i + j + 1, Data: bytes.Repeat([]byte{byte(j)}, 256)})
		}
		batch.msgs = append(batch.msgs, m)
	}
	return &batch
}

// TestCodecMarshalBatch checks that a batch encodes as its messages, each
// a length-prefixed field 1, even when a message changed after an earlier
// encoding cached its size, and that it decodes back.
func TestCodecMarshalBatch(t *testing.T) {
	batch := testBatch(3)
	if _, err := (codec{}).Marshal(batch); err != nil {
		t.Fatal(err)
	}
	// Sizes cached by that encoding are stale now.
	batch.msgs[1].Entries[0].Data = append(batch.msgs[1].Entries[0].Data, "longer"...)
	batch.msgs[2].Entries = batch.msgs[2].Entries[:1]
	got, err := (codec{}).Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, m := range batch.msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want = protowire.AppendBytes(protowire.AppendTag(want, 1, protowire.BytesType), b)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("batch encodes as %d bytes that differ from its messages' %d", len(got), len(want))
	}
	var back msgBatch
	if err := (codec{}).Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.msgs) != len(batch.msgs) {
		t.Fatalf("decoded %d messages, want %d", len(back.msgs), len(batch.msgs))
	}
	for i := range back.msgs {
		if !proto.Equal(back.msgs[i], batch.msgs[i]) {
			t.Errorf("message %d decodes as %v, want %v", i, back.msgs[i], batch.msgs[i])
		}
	}
}

// BenchmarkCodecMarshalBatch encodes a batch of 64 appends.
func BenchmarkCodecMarshalBatch(b *testing.B) {
	batch := testBatch(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (codec{}).Marshal(batch); err != nil {
			b.Fatal(err)
		}
	}
}
