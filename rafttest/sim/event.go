package sim

import "github.com/seed901663da/raft/raftpb"

// evKind is what an event does when its time comes.
type evKind uint8

const (
	// evTick ticks node's clock and schedules the next tick.
	evTick evKind = iota
	// evDeliver hands msg to node msg.To.
	evDeliver
	// evFault starts schedule[arg].
	evFault
	// evFaultEnd reverts schedule[arg].
	evFaultEnd
	// evClient lets client arg act.
	evClient
	// evAppend performs the oldest queued append of node (async storage).
	evAppend
	// evApply performs the oldest queued apply of node (async storage).
	evApply
	// evMonitor checks for deadlocks and schedules the next check.
	evMonitor
)

var evNames = [...]string{"tick", "deliver", "fault", "fault-end", "client", "append", "apply", "monitor"}

func (k evKind) String() string { return evNames[k] }

// event is one entry of the simulator's agenda. Events run in order of
// time, ties broken by the order they were scheduled in, so a run is a
// pure function of its seed.
type event struct {
	at   int64
	seq  uint64
	kind evKind
	// node is the index (ID-1) of the node the event concerns.
	node int
	// inc is the node's incarnation when the event was scheduled;
	// events of an earlier incarnation (before a crash) are ignored.
	inc uint32
	arg int
	msg *raftpb.Message
}

func (e *event) before(f *event) bool {
	return e.at < f.at || (e.at == f.at && e.seq < f.seq)
}

// agenda is a binary min-heap of events. It stores values, not pointers,
// so that scheduling does not allocate once the slice has grown.
type agenda struct {
	evs []event
	seq uint64
}

func (a *agenda) len() int { return len(a.evs) }

func (a *agenda) push(e event) {
	a.seq++
	e.seq = a.seq
	a.evs = append(a.evs, e)
	i := len(a.evs) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !a.evs[i].before(&a.evs[p]) {
			break
		}
		a.evs[i], a.evs[p] = a.evs[p], a.evs[i]
		i = p
	}
}

func (a *agenda) pop() event {
	e := a.evs[0]
	n := len(a.evs) - 1
	a.evs[0] = a.evs[n]
	a.evs[n] = event{}
	a.evs = a.evs[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a.evs[r].before(&a.evs[l]) {
			m = r
		}
		if !a.evs[m].before(&a.evs[i]) {
			break
		}
		a.evs[i], a.evs[m] = a.evs[m], a.evs[i]
		i = m
	}
	return e
}
