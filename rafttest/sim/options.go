package sim

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"go.uber.org/zap"
)

// Faults is a set of fault and operation kinds a run may draw from.
type Faults uint32

// The kinds of chaos. Network faults act on messages in flight; node
// faults on whole nodes; the operations are what a real cluster's
// operators and clients do to it besides writing.
const (
	// FaultDelay gives links slow periods: long per-message delays.
	FaultDelay Faults = 1 << iota
	// FaultDrop loses messages.
	FaultDrop
	// FaultDup delivers some messages twice.
	FaultDup
	// FaultReorder lets messages on one link overtake each other (links
	// are FIFO without it).
	FaultReorder
	// FaultPartition splits the cluster into groups that cannot talk:
	// random splits, an isolated leader, minority against majority.
	FaultPartition
	// FaultOneWay cuts single links in one direction.
	FaultOneWay
	// FaultCrash crashes nodes, losing everything not synced, and
	// restarts them later.
	FaultCrash
	// FaultSkew runs node clocks at different rates (bounded: within
	// ±20%).
	FaultSkew
	// FaultCompact compacts logs at random points, so that lagging
	// followers need snapshots.
	FaultCompact
	// FaultTransfer asks the leader to hand leadership to a random voter.
	FaultTransfer
	// FaultConf proposes membership changes: removing and adding voters,
	// learners, promotions, joint changes.
	FaultConf
	// FaultLease serves reads from the leader lease (ReadOnlyLeaseBased)
	// instead of a heartbeat round. Only combined with bounded skew.
	FaultLease
	// FaultAsync runs the nodes with AsyncStorageWrites in about half of
	// the seeds, with disk writes and applies as separate delayed events.
	FaultAsync

	faultsEnd
)

// AllFaults enables every kind.
const AllFaults = faultsEnd - 1

var faultNames = map[string]Faults{
	"delay": FaultDelay, "drop": FaultDrop, "dup": FaultDup, "reorder": FaultReorder,
	"partition": FaultPartition, "oneway": FaultOneWay, "crash": FaultCrash,
	"skew": FaultSkew, "compact": FaultCompact, "transfer": FaultTransfer,
	"conf": FaultConf, "lease": FaultLease, "async": FaultAsync,
}

// ParseFaults reads a comma-separated list of fault names, "all" or
// "none". A leading "-" removes a kind: "all,-lease".
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		neg := strings.HasPrefix(tok, "-")
		tok = strings.TrimPrefix(tok, "-")
		var v Faults
		switch tok {
		case "":
			continue
		case "all":
			v = AllFaults
		case "none":
			v = 0
		default:
			var ok bool
			if v, ok = faultNames[tok]; !ok {
				return 0, fmt.Errorf("sim: unknown fault %q (known: all, none, %s)", tok, strings.Join(FaultNames(), ", "))
			}
		}
		if neg {
			f &^= v
		} else {
			f |= v
		}
	}
	return f, nil
}

// FaultNames lists the names ParseFaults knows, sorted.
func FaultNames() []string {
	names := make([]string, 0, len(faultNames))
	for n := range faultNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f Faults) String() string {
	if f == AllFaults {
		return "all"
	}
	if f == 0 {
		return "none"
	}
	var names []string
	for _, n := range FaultNames() {
		if f&faultNames[n] != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// Has reports whether every kind in g is in f.
func (f Faults) Has(g Faults) bool { return f&g == g }

// Options configure one run. The zero value of every field but Seed has
// a usable default (see withDefaults).
type Options struct {
	// Seed determines everything random in the run.
	Seed uint64
	// Nodes is the cluster size: 3, 5 or 7. Default 3.
	Nodes int
	// Faults are the kinds of chaos drawn from. Zero means none: a
	// cluster with only clients.
	Faults Faults
	// Duration is the length of the chaos phase in virtual milliseconds
	// (a node ticks about every 10ms). Default 20,000.
	Duration int64
	// Keep, if non-nil, restricts the fault schedule to the listed
	// indexes of the schedule the seed generates; shrinking sets it.
	Keep []int
	// Trace, if set, receives every event as one JSON object per line.
	Trace io.Writer
	// TailLen is how many recent events a violation report shows.
	// Default 40.
	TailLen int
	// NoLinearizability skips the porcupine check at the end.
	NoLinearizability bool
	// Logger, if set, receives every node's raft log (slow; for
	// debugging a replay).
	Logger *zap.Logger
}

func (o Options) withDefaults() Options {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Duration == 0 {
		o.Duration = 20_000
	}
	if o.TailLen == 0 {
		o.TailLen = 40
	}
	return o
}

// Validate reports whether the options can be run.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Nodes != 3 && o.Nodes != 5 && o.Nodes != 7:
		return fmt.Errorf("sim: Nodes must be 3, 5 or 7, got %d", o.Nodes)
	case o.Duration < 0:
		return fmt.Errorf("sim: Duration must not be negative, got %d", o.Duration)
	case o.Faults&^AllFaults != 0:
		return fmt.Errorf("sim: unknown fault bits %#x", uint32(o.Faults&^AllFaults))
	}
	return nil
}
