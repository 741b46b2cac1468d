package raftpb

import (
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestVarintSize(t *testing.T) {
	for _, x := range []uint64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		if got, want := varintSize(x), protowire.SizeVarint(x); got != want {
			t.Errorf("varintSize(%d) = %d, want %d", x, got, want)
		}
	}
}

func TestEntryEncodedSizeTable(t *testing.T) {
	tests := []struct {
		name string
		e    *Entry
		want int
	}{
		{"nil", nil, 0},
		{"zero", &Entry{}, 0},
		{"empty non-nil data is omitted", &Entry{Data: []byte{}}, 0},
		{"term and index", &Entry{Term: 1, Index: 2}, 4},
		{"two-byte varint", &Entry{Index: 128}, 3},
		{"max uint64", &Entry{Term: math.MaxUint64}, 11},
		{"conf change type", &Entry{Type: EntryConfChangeV2}, 2},
		{"negative enum sign-extends", &Entry{Type: -1}, 11},
		{"data", &Entry{Data: []byte("foo")}, 5},
		{"all fields", &Entry{Term: 3, Index: 300, Type: EntryConfChange, Data: make([]byte, 200)}, 2 + 3 + 2 + 3 + 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.EncodedSize(); got != tt.want {
				t.Errorf("EncodedSize() = %d, want %d", got, tt.want)
			}
			if ps := proto.Size(tt.e); ps != tt.want {
				t.Errorf("proto.Size = %d, table wants %d (table is wrong)", ps, tt.want)
			}
		})
	}
}

// TestEntryEncodedSizeUnknownFields decodes an entry from bytes that carry a
// field this build does not know and checks that the retained unknown bytes
// count, as they would when the entry is re-encoded.
func TestEntryEncodedSizeUnknownFields(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("from the future"))
	e := &Entry{}
	if err := proto.Unmarshal(b, e); err != nil {
		t.Fatal(err)
	}
	if len(e.unknownFields) == 0 {
		t.Fatal("test setup: expected unknown fields to be retained")
	}
	if got, want := e.EncodedSize(), proto.Size(e); got != want || got != len(b) {
		t.Errorf("EncodedSize() = %d, proto.Size = %d, encoding is %d bytes", got, want, len(b))
	}
}

// randData backs the payloads of random entries; they only need a length.
var randData = make([]byte, 1<<17)

// randEntry draws field values spread over every varint length, including
// zeros (omitted fields), out-of-range enum values and unknown fields.
func randEntry(r *rand.Rand) *Entry {
	randU64 := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return 0
		default:
			return r.Uint64() >> r.IntN(64)
		}
	}
	e := &Entry{Term: randU64(), Index: randU64()}
	switch r.IntN(4) {
	case 0:
		e.Type = EntryType(r.Int32() - r.Int32())
	default:
		e.Type = EntryType(r.IntN(3))
	}
	switch r.IntN(4) {
	case 0:
	case 1:
		e.Data = []byte{}
	case 2:
		e.Data = randData[:r.IntN(300)]
	default:
		e.Data = randData[:r.IntN(len(randData))]
	}
	if r.IntN(8) == 0 {
		var u []byte
		u = protowire.AppendTag(u, protowire.Number(5+r.IntN(1000)), protowire.BytesType)
		e.unknownFields = protowire.AppendBytes(u, randData[:r.IntN(200)])
	}
	return e
}

func TestEntryEncodedSizeMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		e := randEntry(r)
		if got, want := e.EncodedSize(), proto.Size(e); got != want {
			t.Fatalf("case %d: EncodedSize() = %d, proto.Size = %d for term=%d index=%d type=%d len(data)=%d",
				i, got, want, e.Term, e.Index, e.Type, len(e.Data))
		}
	}
}

func TestPayloadSize(t *testing.T) {
	for _, tt := range []struct {
		e    *Entry
		want int
	}{
		{nil, 0},
		{&Entry{Term: 5, Index: 9}, 0},
		{&Entry{Data: []byte("hello")}, 5},
	} {
		if got := PayloadSize(tt.e); got != tt.want {
			t.Errorf("PayloadSize(%v) = %d, want %d", tt.e, got, tt.want)
		}
	}
}

func TestIsEmptyHardState(t *testing.T) {
	for _, tt := range []struct {
		hs   *HardState
		want bool
	}{
		{nil, true},
		{&HardState{}, true},
		{&HardState{Term: 1}, false},
		{&HardState{Vote: 1}, false},
		{&HardState{Commit: 1}, false},
	} {
		if got := IsEmptyHardState(tt.hs); got != tt.want {
			t.Errorf("IsEmptyHardState(%v) = %t, want %t", tt.hs, got, tt.want)
		}
	}
}

func TestIsEmptySnap(t *testing.T) {
	for _, tt := range []struct {
		s    *Snapshot
		want bool
	}{
		{nil, true},
		{&Snapshot{}, true},
		{&Snapshot{Data: []byte("x"), Metadata: &SnapshotMetadata{Term: 3}}, true},
		{&Snapshot{Metadata: &SnapshotMetadata{Index: 1}}, false},
	} {
		if got := IsEmptySnap(tt.s); got != tt.want {
			t.Errorf("IsEmptySnap(%v) = %t, want %t", tt.s, got, tt.want)
		}
	}
}

func TestHardStateEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b *HardState
		want bool
	}{
		{nil, nil, true},
		{nil, &HardState{}, true},
		{&HardState{Term: 1, Vote: 2, Commit: 3}, &HardState{Term: 1, Vote: 2, Commit: 3}, true},
		{&HardState{Term: 1, Vote: 2, Commit: 3}, nil, false},
		{&HardState{Term: 1}, &HardState{Term: 2}, false},
		{&HardState{Vote: 1}, &HardState{Vote: 2}, false},
		{&HardState{Commit: 1}, &HardState{Commit: 2}, false},
	} {
		if got := HardStateEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("HardStateEqual(%v, %v) = %t, want %t", tt.a, tt.b, got, tt.want)
		}
		if got := HardStateEqual(tt.b, tt.a); got != tt.want {
			t.Errorf("HardStateEqual is not symmetric for %v, %v", tt.a, tt.b)
		}
	}
}

// benchEntries is a fixed mix of entry shapes, so the two size functions
// are measured on identical input.
func benchEntries() []*Entry {
	r := rand.New(rand.NewPCG(3, 4))
	ents := make([]*Entry, 256)
	for i := range ents {
		ents[i] = &Entry{
			Term:  uint64(1 + r.IntN(100)),
			Index: uint64(1 + r.IntN(1_000_000)),
			Type:  EntryType(r.IntN(3)),
			Data:  make([]byte, r.IntN(512)),
		}
	}
	return ents
}

// BenchmarkEntrySize compares the hand-written size computation with the
// reflection-based proto.Size on the same entries; the ratio of their ns/op
// is the speedup.
func BenchmarkEntrySize(b *testing.B) {
	ents := benchEntries()
	b.Run("EncodedSize", func(b *testing.B) {
		n := 0
		for i := 0; b.Loop(); i++ {
			n += ents[i%len(ents)].EncodedSize()
		}
		sink = n
	})
	b.Run("proto.Size", func(b *testing.B) {
		n := 0
		for i := 0; b.Loop(); i++ {
			n += proto.Size(ents[i%len(ents)])
		}
		sink = n
	})
}

var sink int
