package progress

import "fmt"

// Inflights is the window of appends (MsgApp) sent to a peer in
// StateReplicate and not yet acknowledged. The window is full when it holds
// size messages or, if a byte budget is set, when the payload bytes in
// flight reach that budget. A full window pauses replication to the peer,
// which bounds both the number of messages and the memory a slow peer can
// make the leader and the transport hold.
//
// Messages are recorded by the last log index they carry, in increasing
// order, and acknowledged by index: an acknowledgement of index i frees every
// message whose last index is <= i, since the follower's log matches the
// leader's up to i.
//
// The messages live in a ring buffer that grows on demand, so a generous
// size costs no memory for a peer that never has many messages in flight.
// Once grown, adding and freeing do not allocate.
type Inflights struct {
	// start is the buffer position of the oldest message in flight.
	// Invariant: 0 <= start < size, and 0 when count == 0.
	start int
	// count is the number of messages in flight. Invariant: count <= size.
	count int
	// bytes is the sum of the payload bytes of the messages in flight.
	bytes uint64

	// size is the maximum number of messages in flight; it is also the
	// modulus of the ring, independently of how much of it is allocated.
	size int
	// maxBytes is the payload budget; 0 means no byte limit.
	maxBytes uint64

	// buffer holds the ring positions allocated so far. Invariant: every
	// occupied position (start + k) % size, k < count, is < len(buffer), and
	// len(buffer) <= size. Positions are taken modulo size, not len(buffer),
	// so growing never needs to move elements.
	buffer []inflight
}

// inflight is one message in flight.
type inflight struct {
	index uint64 // last log index carried by the message
	bytes uint64 // payload bytes of the message's entries
}

// minGrow is the smallest buffer allocated once the first message is added.
const minGrow = 4

// NewInflights returns an empty window allowing size messages and maxBytes
// payload bytes in flight (maxBytes 0 means unlimited). size must be
// positive; the Raft configuration is validated before a tracker is built,
// so a non-positive size here is a programming error and panics.
func NewInflights(size int, maxBytes uint64) *Inflights {
	if size <= 0 {
		panic(fmt.Sprintf("progress: NewInflights with size %d, must be positive", size))
	}
	return &Inflights{size: size, maxBytes: maxBytes}
}

// Clone returns a copy of in that shares no memory with it.
func (in *Inflights) Clone() *Inflights {
	out := *in
	out.buffer = append([]inflight(nil), in.buffer...)
	return &out
}

// Add records a message whose last log index is index and whose entries
// carry bytes of payload. The caller must check Full first, and indexes must
// strictly increase between Adds (messages are sent in log order); breaking
// either rule is a bug in the caller and panics.
func (in *Inflights) Add(index, bytes uint64) {
	if in.Full() {
		panic(fmt.Sprintf("progress: Inflights.Add(%d) on a full window (%s)", index, in))
	}
	if in.count > 0 {
		if last := in.buffer[in.pos(in.count-1)].index; index <= last {
			panic(fmt.Sprintf("progress: Inflights.Add(%d) after index %d; indexes must increase", index, last))
		}
	}
	next := in.pos(in.count)
	if next >= len(in.buffer) {
		in.grow()
	}
	in.buffer[next] = inflight{index: index, bytes: bytes}
	in.count++
	in.bytes += bytes
}

// ExtendLast records that the newest message in flight, whose last index is
// from, grew before it was sent: it now ends at index and carries bytes more
// payload. It reports false, changing nothing, when the window is empty,
// when the newest message does not end at from, or when index does not lie
// past it. The window's message count is unchanged, which is the point: one
// message is in flight, however many entries it ended up with.
func (in *Inflights) ExtendLast(from, index, bytes uint64) bool {
	if in.count == 0 || index <= from {
		return false
	}
	last := &in.buffer[in.pos(in.count-1)]
	if last.index != from {
		return false
	}
	last.index = index
	last.bytes += bytes
	in.bytes += bytes
	return true
}

// pos returns the buffer position of the k-th oldest message.
func (in *Inflights) pos(k int) int {
	p := in.start + k
	if p >= in.size {
		p -= in.size
	}
	return p
}

// grow doubles the allocated part of the ring, up to size. Because of the
// buffer invariant, the only position that can be missing is exactly
// len(buffer), so copying in place keeps every element where it is.
func (in *Inflights) grow() {
	n := min(max(2*len(in.buffer), minGrow), in.size)
	buf := make([]inflight, n)
	copy(buf, in.buffer)
	in.buffer = buf
}

// FreeLE frees every message whose last index is <= index, which is what an
// acknowledgement of index implies. Freeing from an empty window, or with an
// index below the oldest message, is a no-op: acknowledgements may be stale
// or reordered.
func (in *Inflights) FreeLE(index uint64) {
	for in.count > 0 && in.buffer[in.start].index <= index {
		in.bytes -= in.buffer[in.start].bytes
		in.count--
		in.start++
		if in.start == in.size {
			in.start = 0
		}
	}
	if in.count == 0 {
		// Restarting at position 0 keeps a mostly idle window within the
		// part of the buffer already allocated.
		in.start = 0
	}
}

// Full reports whether no further message may be added: size messages are
// in flight, or the byte budget is set and reached. A single message larger
// than the whole budget is still allowed into an empty window, so that
// oversized entries cannot stall replication forever.
func (in *Inflights) Full() bool {
	return in.count == in.size || (in.maxBytes != 0 && in.bytes >= in.maxBytes)
}

// Count returns the number of messages in flight.
func (in *Inflights) Count() int { return in.count }

// Bytes returns the payload bytes in flight.
func (in *Inflights) Bytes() uint64 { return in.bytes }

// Reset empties the window, keeping its allocation for reuse.
func (in *Inflights) Reset() {
	in.start, in.count, in.bytes = 0, 0, 0
}

// String summarises the window, e.g. "3/256 msgs, 1500 bytes" or
// "2/256 msgs, 4096/4096 bytes [full]".
func (in *Inflights) String() string {
	s := fmt.Sprintf("%d/%d msgs, %d", in.count, in.size, in.bytes)
	if in.maxBytes != 0 {
		s += fmt.Sprintf("/%d", in.maxBytes)
	}
	s += " bytes"
	if in.Full() {
		s += " [full]"
	}
	return s
}
