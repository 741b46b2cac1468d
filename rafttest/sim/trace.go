package sim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// traceRec is one processed event in a form that does not alias the
// simulation's state, so that it can be kept in the tail ring.
type traceRec struct {
	Step int64  `json:"step"`
	At   int64  `json:"t"`
	Kind string `json:"ev"`
	Node uint64 `json:"node,omitempty"`
	Arg  int    `json:"arg,omitempty"`
	// Msg fields, for deliveries.
	Type    string `json:"type,omitempty"`
	From    uint64 `json:"from,omitempty"`
	To      uint64 `json:"to,omitempty"`
	Term    uint64 `json:"term,omitempty"`
	LogTerm uint64 `json:"log_term,omitempty"`
	Index   uint64 `json:"index,omitempty"`
	Commit  uint64 `json:"commit,omitempty"`
	Ents    int    `json:"ents,omitempty"`
	Reject  bool   `json:"reject,omitempty"`
	// Note describes faults and other notable happenings.
	Note string `json:"note,omitempty"`
}

func (r *traceRec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d t=%d %s", r.Step, r.At, r.Kind)
	if r.Node != 0 {
		fmt.Fprintf(&b, " n%d", r.Node)
	}
	if r.Type != "" {
		fmt.Fprintf(&b, " %s %d->%d term=%d logterm=%d index=%d commit=%d", r.Type, r.From, r.To, r.Term, r.LogTerm, r.Index, r.Commit)
		if r.Ents > 0 {
			fmt.Fprintf(&b, " ents=%d", r.Ents)
		}
		if r.Reject {
			b.WriteString(" reject")
		}
	}
	if r.Note != "" {
		b.WriteString(" ")
		b.WriteString(r.Note)
	}
	return b.String()
}

// tracer hashes every event into a running FNV-1a-style digest, keeps the
// last few as records for violation reports, and optionally writes all of
// them as JSON lines.
type tracer struct {
	hash uint64
	ring []traceRec
	next int
	full bool
	enc  *json.Encoder
	err  error
}

func newTracer(tail int, o Options) *tracer {
	t := &tracer{hash: 14695981039346656037, ring: make([]traceRec, tail)}
	if o.Trace != nil {
		t.enc = json.NewEncoder(o.Trace)
	}
	return t
}

func (t *tracer) mix(v uint64) {
	// One multiply per word keeps hashing off the profile; the digest
	// only needs to tell runs apart, not resist an adversary.
	t.hash ^= v
	t.hash *= 1099511628211
	t.hash ^= t.hash >> 29
}

// record adds an event; note may be empty.
func (t *tracer) record(step, at int64, e *event, note string) {
	t.mix(uint64(step))
	t.mix(uint64(at))
	t.mix(uint64(e.kind)<<32 | uint64(e.node)<<8 | uint64(uint32(e.arg)))
	m := e.msg
	if m != nil {
		t.mix(uint64(m.Type)<<48 ^ m.From<<24 ^ m.To)
		t.mix(m.Term ^ m.LogTerm<<20 ^ m.Index<<40)
		t.mix(m.Commit ^ uint64(len(m.Entries))<<32)
	}
	t.mixString(note)
	r := t.push()
	*r = traceRec{Step: step, At: at, Kind: e.kind.String(), Arg: e.arg, Note: note}
	if e.kind != evDeliver {
		r.Node = uint64(e.node + 1)
	}
	if m != nil {
		r.Type = m.Type.String()
		r.From, r.To, r.Term, r.LogTerm, r.Index, r.Commit = m.From, m.To, m.Term, m.LogTerm, m.Index, m.Commit
		r.Ents, r.Reject = len(m.Entries), m.Reject
	}
	t.encode(r)
}

// note records something that happened inside an event (a leader
// elected, a node crashed), for the tail and the JSON trace.
func (t *tracer) note(step, at int64, node uint64, s string) {
	t.mix(node)
	t.mixString(s)
	r := t.push()
	*r = traceRec{Step: step, At: at, Kind: "note", Node: node, Note: s}
	t.encode(r)
}

// mixString adds s to the digest a byte at a time (FNV-1a).
func (t *tracer) mixString(s string) {
	for i := 0; i < len(s); i++ {
		t.hash ^= uint64(s[i])
		t.hash *= 1099511628211
	}
}

// push returns the ring slot for the next record, overwriting the oldest
// once the ring is full.
func (t *tracer) push() *traceRec {
	r := &t.ring[t.next]
	if t.next++; t.next == len(t.ring) {
		t.next, t.full = 0, true
	}
	return r
}

// encode writes r to the JSON trace, if there is one; the first write
// error stops the trace.
func (t *tracer) encode(r *traceRec) {
	if t.enc != nil && t.err == nil {
		t.err = t.enc.Encode(r)
	}
}

// tail returns the kept records, oldest first, as text.
func (t *tracer) tail() []string {
	var out []string
	add := func(rs []traceRec) {
		for i := range rs {
			if rs[i].Kind != "" {
				out = append(out, rs[i].String())
			}
		}
	}
	if t.full {
		add(t.ring[t.next:])
	}
	add(t.ring[:t.next])
	return out
}
