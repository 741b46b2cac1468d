package raft

import (
	"math"

	"github.com/seed901663da/raft/raftpb"
)

// Two different byte counts describe a batch of entries, and mixing them up
// silently breaks flow control. They get distinct types so the compiler
// catches a mix-up.

// entryEncodingSize is the size in bytes of entries in their protobuf wire
// encoding. It bounds what goes into one message (Config.MaxSizePerMsg), one
// batch of committed entries and one storage read.
type entryEncodingSize uint64

// entryPayloadSize is the size in bytes of the Data of entries, ignoring
// framing, term, index and type. It is what the uncommitted-log limit counts:
// an empty entry has payload size 0, so the empty entry a new leader appends
// (§8 of the Raft paper) can never be refused by that limit.
type entryPayloadSize uint64

// noSizeLimit is the entryEncodingSize limit that never cuts a batch short.
const noSizeLimit = entryEncodingSize(math.MaxUint64)

// entryEncodedSize returns the wire size of one entry. All size accounting in
// the package goes through this one function, so a faster implementation can
// be swapped in here without touching callers.
func entryEncodedSize(e *raftpb.Entry) int {
	// Computed from the four fields rather than by proto reflection: this
	// runs for every entry appended, sent or applied.
	return e.EncodedSize()
}

// entsSize returns the total encoded size of ents.
func entsSize(ents []*raftpb.Entry) entryEncodingSize {
	var size entryEncodingSize
	for _, e := range ents {
		size += entryEncodingSize(entryEncodedSize(e))
	}
	return size
}

// payloadSize returns the payload size of one entry.
func payloadSize(e *raftpb.Entry) entryPayloadSize {
	return entryPayloadSize(len(e.GetData()))
}

// payloadsSize returns the total payload size of ents.
func payloadsSize(ents []*raftpb.Entry) entryPayloadSize {
	var size entryPayloadSize
	for _, e := range ents {
		size += payloadSize(e)
	}
	return size
}

// prefixWithin returns how many leading entries of ents fit in maxSize bytes
// of encoding. It may return 0.
func prefixWithin(ents []*raftpb.Entry, maxSize entryEncodingSize) int {
	var size entryEncodingSize
	for i, e := range ents {
		size += entryEncodingSize(entryEncodedSize(e))
		if size > maxSize {
			return i
		}
	}
	return len(ents)
}

// limitSize returns the longest prefix of ents whose encoded size is at most
// maxSize, but never less than one entry when ents is not empty: a single
// entry larger than the limit must still make progress, or it would never be
// sent or applied.
func limitSize(ents []*raftpb.Entry, maxSize entryEncodingSize) []*raftpb.Entry {
	if len(ents) == 0 || maxSize == noSizeLimit {
		// Without a limit there is no need to compute sizes.
		return ents
	}
	return ents[:max(1, prefixWithin(ents, maxSize))]
}
