package raft

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

func TestEntrySizes(t *testing.T) {
	ents := []*raftpb.Entry{
		{Index: 1, Term: 1},
		{Index: 2, Term: 1, Data: make([]byte, 10)},
		{Index: 3, Term: 2, Type: raftpb.EntryConfChange, Data: make([]byte, 300)},
	}
	var enc int
	for _, e := range ents {
		if got, want := entryEncodedSize(e), proto.Size(e); got != want {
			t.Errorf("entryEncodedSize(%v) = %d, want %d", e, got, want)
		}
		enc += proto.Size(e)
	}
	if got := entsSize(ents); got != entryEncodingSize(enc) {
		t.Errorf("entsSize = %d, want %d", got, enc)
	}
	if got := entsSize(nil); got != 0 {
		t.Errorf("entsSize(nil) = %d", got)
	}
	if got := payloadSize(ents[0]); got != 0 {
		t.Errorf("payloadSize of an empty entry = %d, want 0", got)
	}
	if got := payloadsSize(ents); got != 310 {
		t.Errorf("payloadsSize = %d, want 310", got)
	}
}

func TestLimitSize(t *testing.T) {
	ents := index(1).terms(1, 2, 3, 4, 5)
	for _, e := range ents {
		e.Data = make([]byte, 8)
	}
	one := entryEncodingSize(entryEncodedSize(ents[0]))
	for _, tt := range []struct {
		maxSize entryEncodingSize
		want    int
	}{
		{0, 1}, // at least one entry, however small the limit
		{one - 1, 1},
		{one, 1},
		{one + 1, 1},
		{2*one - 1, 1},
		{2 * one, 2},
		{5 * one, 5},
		{5*one + 100, 5},
		{^entryEncodingSize(0), 5},
	} {
		if got := limitSize(ents, tt.maxSize); len(got) != tt.want {
			t.Errorf("limitSize(5 entries of %d bytes, %d) has %d entries, want %d",
				one, tt.maxSize, len(got), tt.want)
		}
	}
	if got := limitSize(nil, 0); len(got) != 0 {
		t.Errorf("limitSize(nil, 0) = %v", got)
	}
	if got := prefixWithin(ents, one-1); got != 0 {
		t.Errorf("prefixWithin below one entry = %d, want 0", got)
	}
}
