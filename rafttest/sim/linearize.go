package sim

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// kvInput is a porcupine operation's input: a write of value, or a read.
type kvInput struct {
	write bool
	key   uint8
	value uint64
}

// kvModel is a single register per key; porcupine checks each key's
// history on its own (Partition), which keeps the search small.
var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		var byKey [numKeys][]porcupine.Operation
		for _, o := range h {
			k := o.Input.(kvInput).key
			byKey[k] = append(byKey[k], o)
		}
		out := make([][]porcupine.Operation, 0, numKeys)
		for _, ops := range byKey {
			if len(ops) > 0 {
				out = append(out, ops)
			}
		}
		return out
	},
	Init: func() any { return uint64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(kvInput)
		if in.write {
			return true, in.value
		}
		return output.(uint64) == state.(uint64), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.write {
			return fmt.Sprintf("put(k%d, %#x)", in.key, in.value)
		}
		return fmt.Sprintf("get(k%d) -> %#x", in.key, output)
	},
}

// linearizabilityTimeout bounds porcupine's search per run. A history
// that cannot be decided in time is reported as a harness problem, not
// as a violation.
const linearizabilityTimeout = 20 * time.Second

// checkLinearizable checks the client history and returns the number of
// operations checked.
func (s *Sim) checkLinearizable() int {
	s.boundUnknownWrites()
	ops := make([]porcupine.Operation, 0, len(s.hist.ops))
	for _, o := range s.hist.ops {
		if o.ret == -1 || (!o.write && o.ret == math.MaxInt64) {
			continue // never happened, or a read without an answer
		}
		ret := o.ret
		if ret == math.MaxInt64 {
			ret = math.MaxInt64 - 1
		}
		// Virtual times can tie; porcupine orders a call before a return
		// at the same instant, which is what "concurrent" should mean.
		ops = append(ops, porcupine.Operation{
			ClientId: o.client,
			Input:    kvInput{write: o.write, key: o.key, value: o.value},
			Call:     o.call * 2,
			Output:   o.value,
			Return:   ret*2 + 1,
		})
		if ret == math.MaxInt64-1 {
			ops[len(ops)-1].Return = math.MaxInt64
		}
	}
	switch porcupine.CheckOperationsTimeout(kvModel, ops, linearizabilityTimeout) {
	case porcupine.Illegal:
		s.fail(KindLinearizability, "the client history of %d operations is not linearizable: %s", len(ops), s.explainIllegal(ops))
	case porcupine.Unknown:
		s.fail(KindHarness, "porcupine timed out on %d operations", len(ops))
	}
	return len(ops)
}

// boundUnknownWrites settles the writes that got no answer with what the
// replicas did: a write no node ever applied did not happen (the run has
// ended; nothing reads any more), and one that was applied took effect
// when it committed, at the latest when the first node applied it. That
// is its return time. Without this, every unanswered write would stay
// concurrent with the rest of the history, and porcupine's search would
// grow with each one.
func (s *Sim) boundUnknownWrites() {
	for i := range s.hist.ops {
		o := &s.hist.ops[i]
		if !o.write || o.ret != math.MaxInt64 {
			continue
		}
		if t, ok := s.hist.applied[o.value]; ok {
			o.ret = max(t, o.call)
		} else {
			o.ret = -1
		}
	}
}

// explainIllegal finds, for the first key whose history is not
// linearizable, the shortest prefix of its operations (in call order)
// that is not, and describes the operation that ends it together with
// the writes it could have seen.
func (s *Sim) explainIllegal(ops []porcupine.Operation) string {
	for _, part := range kvModel.Partition(ops) {
		if porcupine.CheckOperations(kvModel, part) {
			continue
		}
		sort.SliceStable(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		lo, hi := 1, len(part) // part[:hi] is illegal
		for lo < hi {
			mid := (lo + hi) / 2
			if porcupine.CheckOperations(kvModel, part[:mid]) {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		bad := part[hi-1]
		var b strings.Builder
		fmt.Fprintf(&b, "first bad operation %s", s.describeOp(bad))
		// The writes completed before it, and those concurrent with it.
		var prior []string
		for _, o := range part[:hi-1] {
			if o.Input.(kvInput).write && (o.Return > bad.Call || len(prior) < 3 || o.Return >= bad.Call-2*2000) {
				prior = append(prior, s.describeOp(o))
			}
		}
		if len(prior) > 8 {
			prior = prior[len(prior)-8:]
		}
		fmt.Fprintf(&b, "; latest writes before it: %s", strings.Join(prior, ", "))
		return b.String()
	}
	return "no single key fails on its own"
}

func (s *Sim) describeOp(o porcupine.Operation) string {
	in := o.Input.(kvInput)
	h := s.findOp(o)
	ret := "?"
	if o.Return != math.MaxInt64 {
		ret = fmt.Sprint(o.Return / 2)
	}
	if in.write {
		return fmt.Sprintf("put(k%d,%#x)@n%d[%d..%s]", in.key, in.value, h.node, o.Call/2, ret)
	}
	return fmt.Sprintf("get(k%d)=%#x@n%d index=%d [%d..%s]", in.key, o.Output, h.node, h.index, o.Call/2, ret)
}

func (s *Sim) findOp(o porcupine.Operation) op {
	in := o.Input.(kvInput)
	for _, h := range s.hist.ops {
		if h.call*2 == o.Call && h.client == o.ClientId && h.key == in.key && h.write == in.write {
			return h
		}
	}
	return op{}
}
