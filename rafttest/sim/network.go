package sim

// network decides the fate of every message: when it arrives, whether it
// is lost or duplicated, and whether a partition or a cut link stands in
// its way. All of its state changes through fault events, so it is a
// pure function of the schedule and its random stream.
type network struct {
	n int
	// group[i] is node i's side of the current partition; nodes talk
	// only within a side. All zero when healed.
	group []int
	// cut[from*n+to] counts the one-way cuts of that link in force.
	cut []int
	// slow[i] is extra delay, in ms, on every message from or to node i.
	slow []int64
	// dropP and dupP are the loss and duplication probabilities in force;
	// jitter the extra random delay, which also allows reordering.
	dropP, dupP float64
	jitter      int64
	reorder     int // reorder bursts in force; links are FIFO at zero
	// lastAt[from*n+to] is the latest delivery time scheduled on the
	// link, to keep links FIFO.
	lastAt []int64
}

func newNetwork(n int) *network {
	return &network{
		n:      n,
		group:  make([]int, n),
		cut:    make([]int, n*n),
		slow:   make([]int64, n),
		lastAt: make([]int64, n*n),
	}
}

// connected reports whether a message from node index a can reach b now.
func (nw *network) connected(a, b int) bool {
	return nw.group[a] == nw.group[b] && nw.cut[a*nw.n+b] == 0
}

// route returns the delivery times of a message sent now from a to b:
// none if it is lost, two if it is duplicated.
func (nw *network) route(r *rng, now int64, a, b int) (at1, at2 int64, copies int) {
	if !nw.connected(a, b) {
		return 0, 0, 0
	}
	if nw.dropP > 0 && r.chance(nw.dropP) {
		return 0, 0, 0
	}
	delay := r.between(1, 3) + nw.slow[a] + nw.slow[b]
	if nw.jitter > 0 {
		delay += r.int63n(nw.jitter + 1)
	}
	at1 = now + delay
	link := a*nw.n + b
	if nw.reorder == 0 {
		if at1 < nw.lastAt[link] {
			at1 = nw.lastAt[link]
		}
		nw.lastAt[link] = at1
	}
	copies = 1
	if nw.dupP > 0 && r.chance(nw.dupP) {
		at2 = at1 + r.between(0, 20)
		copies = 2
	}
	return at1, at2, copies
}

// heal removes the partition.
func (nw *network) heal() {
	for i := range nw.group {
		nw.group[i] = 0
	}
}

// healAll removes every fault, for the final liveness phase.
func (nw *network) healAll() {
	nw.heal()
	for i := range nw.cut {
		nw.cut[i] = 0
	}
	for i := range nw.slow {
		nw.slow[i] = 0
	}
	nw.dropP, nw.dupP, nw.jitter, nw.reorder = 0, 0, 0, 0
}
