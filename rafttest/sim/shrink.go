package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// RunSeed runs one simulation with o.
func RunSeed(o Options) (Result, error) {
	s, err := New(o)
	if err != nil {
		return Result{}, err
	}
	return s.Run(), nil
}

// ScheduleLen returns the number of entries in the full fault schedule the
// options' seed generates (before Keep).
func ScheduleLen(o Options) int {
	o = o.withDefaults()
	return len(genSchedule(newRNG(o.Seed, 5), o))
}

// Shrink looks for a smaller fault schedule that still fails with the
// same kind of violation as failed, by delta debugging over the schedule
// of o: it removes chunks of entries, halving the chunk size whenever no
// chunk can go, and keeps a removal when the run still fails the same
// way. It runs at most budget simulations and returns the options of the
// smallest failing run found (with Keep set) and its result.
func Shrink(o Options, failed Result, budget int) (Options, Result) {
	if failed.Violation == nil {
		return o, failed
	}
	kind := failed.Violation.Kind
	keep := o.Keep
	if keep == nil {
		keep = make([]int, ScheduleLen(o))
		for i := range keep {
			keep[i] = i
		}
	}
	best, bestRes := o, failed
	best.Keep = keep
	runs := 0
	for chunk := max(len(keep)/2, 1); chunk >= 1 && runs < budget; {
		removed := false
		for start := 0; start < len(keep) && runs < budget; {
			end := min(start+chunk, len(keep))
			try := append(append([]int{}, keep[:start]...), keep[end:]...)
			to := best
			to.Keep = try
			to.Trace = nil
			res, err := RunSeed(to)
			runs++
			if err == nil && res.Violation != nil && res.Violation.Kind == kind {
				keep, best, bestRes, removed = try, to, res, true
				continue // the same start now names the next chunk
			}
			start = end
		}
		if !removed {
			if chunk == 1 {
				break
			}
			chunk /= 2
		}
	}
	best.Trace = o.Trace
	return best, bestRes
}

// ReplayCommand is the command line that reruns o exactly.
func ReplayCommand(o Options) string {
	o = o.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "go run ./cmd/raftsim -seed %d -nodes %d -faults %s -duration %d", o.Seed, o.Nodes, o.Faults, o.Duration)
	if o.Keep != nil {
		ks := make([]string, len(o.Keep))
		for i, k := range o.Keep {
			ks[i] = strconv.Itoa(k)
		}
		k := strings.Join(ks, ",")
		if k == "" {
			k = "none"
		}
		fmt.Fprintf(&b, " -keep %s", k)
	}
	return b.String()
}

// ParseKeep reads a -keep list: comma-separated schedule indexes, or
// "none" for an empty schedule.
func ParseKeep(s string) ([]int, error) {
	if s == "none" {
		return []int{}, nil
	}
	var keep []int
	for _, f := range strings.Split(s, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("sim: bad schedule index %q", f)
		}
		keep = append(keep, i)
	}
	return keep, nil
}

// Describe is a multi-line report of a failed run: the violation, the
// trace tail and the schedule that ran.
func Describe(o Options, res Result) string {
	var b strings.Builder
	if res.Violation == nil {
		return "ok"
	}
	fmt.Fprintf(&b, "seed %d: %s\n", res.Seed, res.Violation)
	fmt.Fprintf(&b, "config: async=%v lease=%v checkquorum=%v prevote=%v\n", res.Async, res.Lease, res.CheckQuorum, res.PreVote)
	fmt.Fprintf(&b, "trace tail:\n%s\n", joinTail(res.Violation.Tail))
	fmt.Fprintf(&b, "fault schedule (%d entries):\n", len(res.Schedule))
	for i := range res.Schedule {
		fmt.Fprintf(&b, "  %s\n", res.Schedule[i].String())
	}
	fmt.Fprintf(&b, "replay: %s", ReplayCommand(o))
	return b.String()
}
