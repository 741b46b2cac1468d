package sim

import (
	"fmt"
	"strings"
)

// faultKind is one kind of scheduled chaos.
type faultKind uint8

const (
	fPartition faultKind = iota
	fOneWay
	fCrash
	fDrop
	fDup
	fReorder
	fSlow
	fCompact
	fTransfer
	fConf
	numFaultKinds
)

var faultKindNames = [...]string{"partition", "oneway", "crash", "drop", "dup", "reorder", "slow", "compact", "transfer", "conf"}

func (k faultKind) String() string { return faultKindNames[k] }

// Partition variants.
const (
	splitRandom = iota
	splitIsolateLeader
	splitMinority
)

// FaultEvent is one entry of a run's fault schedule: chaos that starts
// at At and, for lasting faults, ends Dur ms later. The schedule is
// drawn from the seed before the run starts, so shrinking can drop
// entries and replay the rest.
type FaultEvent struct {
	At, Dur int64
	Kind    faultKind
	// A and B name nodes by index, or a variant; P is a probability or a
	// size, depending on Kind.
	A, B  int
	P     float64
	Sides []int // partition side of every node, for the split variants
}

func (f *FaultEvent) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=%d %s", f.At, f.Kind)
	switch f.Kind {
	case fPartition:
		switch f.A {
		case splitIsolateLeader:
			b.WriteString(" isolate-leader")
		default:
			fmt.Fprintf(&b, " sides=%v", f.Sides)
		}
	case fOneWay:
		fmt.Fprintf(&b, " %d->%d", f.A+1, f.B+1)
	case fCrash:
		switch f.B {
		case 1:
			b.WriteString(" leader")
		case 2:
			b.WriteString(" next-leader")
		case 3:
			b.WriteString(" next-commit")
		default:
			fmt.Fprintf(&b, " n%d", f.A+1)
		}
	case fSlow, fCompact:
		fmt.Fprintf(&b, " n%d", f.A+1)
	case fDrop, fDup:
		fmt.Fprintf(&b, " p=%.2f", f.P)
	case fReorder:
		fmt.Fprintf(&b, " jitter=%.0fms", f.P)
	case fConf:
		fmt.Fprintf(&b, " choice=%d", f.A)
	case fTransfer:
		fmt.Fprintf(&b, " to-choice=%d", f.A)
	}
	if f.Dur > 0 {
		fmt.Fprintf(&b, " for %dms", f.Dur)
	}
	return b.String()
}

// genSchedule draws the fault schedule of a run.
func genSchedule(r *rng, o Options) []FaultEvent {
	type choice struct {
		kind   faultKind
		weight int
	}
	var kinds []choice
	add := func(f Faults, k faultKind, w int) {
		if o.Faults.Has(f) {
			kinds = append(kinds, choice{k, w})
		}
	}
	add(FaultPartition, fPartition, 4)
	add(FaultOneWay, fOneWay, 2)
	add(FaultCrash, fCrash, 4)
	add(FaultDrop, fDrop, 2)
	add(FaultDup, fDup, 1)
	add(FaultReorder, fReorder, 1)
	add(FaultDelay, fSlow, 2)
	add(FaultCompact, fCompact, 3)
	add(FaultTransfer, fTransfer, 2)
	add(FaultConf, fConf, 4)
	if len(kinds) == 0 {
		return nil
	}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	var sched []FaultEvent
	n := o.Nodes
	for t := r.between(200, 800); t < o.Duration; t += r.between(30, 500) {
		w := r.intn(total)
		var k faultKind
		for _, c := range kinds {
			if w < c.weight {
				k = c.kind
				break
			}
			w -= c.weight
		}
		f := FaultEvent{At: t, Kind: k}
		switch k {
		case fPartition:
			f.Dur = r.between(100, 3000)
			f.A = r.intn(3)
			f.Sides = make([]int, n)
			switch f.A {
			case splitRandom:
				sides := 2 + r.intn(2)
				for i := range f.Sides {
					f.Sides[i] = r.intn(sides)
				}
			case splitMinority:
				// A random minority on side 1, the majority on side 0.
				perm := perm(r, n)
				for _, i := range perm[:r.between(1, int64(n/2))] {
					f.Sides[i] = 1
				}
			}
		case fOneWay:
			f.Dur = r.between(100, 3000)
			f.A = r.intn(n)
			f.B = (f.A + 1 + r.intn(n-1)) % n
		case fCrash:
			f.Dur = r.between(10, 2000)
			f.A = r.intn(n)
			// Some crashes hit whoever leads at the time; some the next
			// node to win an election, right after it has written its
			// first entry and before it has sent anything; some the next
			// leader to advance its commit index, before it has told
			// anyone. Leaders dying with unreplicated entries or unshared
			// commits make the interesting histories (paper Figure 8).
			f.B = r.intn(4)
		case fDrop:
			f.Dur = r.between(100, 2000)
			f.P = []float64{0.05, 0.2, 0.5, 0.9}[r.intn(4)]
		case fDup:
			f.Dur = r.between(100, 2000)
			f.P = []float64{0.05, 0.2, 0.5}[r.intn(3)]
		case fReorder:
			f.Dur = r.between(100, 2000)
			f.P = float64(r.between(5, 60))
		case fSlow:
			f.Dur = r.between(100, 2000)
			f.A = r.intn(n)
			f.P = float64(r.between(10, 80))
		case fCompact:
			f.A = r.intn(n)
			f.B = r.intn(4) // entries kept behind the snapshot
		case fTransfer:
			f.A = r.intn(1 << 16)
		case fConf:
			f.A = r.intn(1 << 16)
			f.B = r.intn(1 << 16)
		}
		sched = append(sched, f)
	}
	return sched
}

func perm(r *rng, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
