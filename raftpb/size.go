package raftpb

import "math/bits"

// Field tags of Entry, each (field number << 3 | wire type) in one byte
// because every field number is below 16. EncodedSize only needs their
// length, which is 1 for all of them.
const entryTagSize = 1

// varintSize is the number of bytes the protobuf varint encoding of x takes:
// seven payload bits per byte, and at least one byte even for zero.
func varintSize(x uint64) int {
	return (bits.Len64(x|1) + 6) / 7
}

// EncodedSize returns the number of bytes the protobuf wire encoding of e
// takes. It always equals proto.Size(e) but is computed directly from the
// four known fields, without reflection, because the raft core calls it for
// every entry it appends or sends to enforce byte limits on messages and on
// the uncommitted tail.
//
// As proto3 prescribes, fields holding their zero value are not encoded.
// Unknown fields (kept when e was decoded from a newer peer's encoding) are
// re-encoded verbatim and so count at their stored length. A nil entry has
// size 0.
func (e *Entry) EncodedSize() int {
	if e == nil {
		return 0
	}
	n := len(e.unknownFields)
	if e.Term != 0 {
		n += entryTagSize + varintSize(e.Term)
	}
	if e.Index != 0 {
		n += entryTagSize + varintSize(e.Index)
	}
	if e.Type != 0 {
		// Enums are int32 on the wire but encoded as a sign-extended 64-bit
		// varint, so a negative value takes the full ten bytes.
		n += entryTagSize + varintSize(uint64(int64(e.Type)))
	}
	if l := len(e.Data); l > 0 {
		n += entryTagSize + varintSize(uint64(l)) + l
	}
	return n
}

// PayloadSize returns the size of the application payload of e, len(e.Data).
// Flow control on proposals counts payload bytes rather than encoded bytes so
// that the empty entries a leader appends never count against the limit.
func PayloadSize(e *Entry) int {
	return len(e.GetData())
}

// IsEmptyHardState reports whether hs carries no state: it is nil or its
// term, vote and commit are all zero. Unknown fields are ignored.
func IsEmptyHardState(hs *HardState) bool {
	return hs.GetTerm() == 0 && hs.GetVote() == 0 && hs.GetCommit() == 0
}

// IsEmptySnap reports whether s is absent: nil, without metadata, or with
// metadata index 0. Index 0 is never a valid snapshot position because the
// log starts at index 1 (Raft paper §5.3), so a snapshot at index 0 carries
// nothing a node could restore from.
func IsEmptySnap(s *Snapshot) bool {
	return s.GetMetadata().GetIndex() == 0
}

// HardStateEqual reports whether a and b hold the same term, vote and
// commit. A nil hard state equals an empty one; unknown fields are ignored.
func HardStateEqual(a, b *HardState) bool {
	return a.GetTerm() == b.GetTerm() &&
		a.GetVote() == b.GetVote() &&
		a.GetCommit() == b.GetCommit()
}
