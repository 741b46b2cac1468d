// Command raftsim runs the deterministic chaos simulator of package
// rafttest/sim over a range of seeds and prints a summary table.
//
//	go run ./cmd/raftsim -seeds 1-1000 -nodes 5 -faults all
//
// Every failing seed is reported with its violation, the tail of its
// trace, a shrunk fault schedule and the exact command that replays it.
// Replaying one seed with -trace writes its events as JSON lines.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed901663da/raft/rafttest/sim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "raftsim:", err)
		os.Exit(2)
	}
}

func run() error {
	seeds := flag.String("seeds", "1-100", "seed range `lo-hi` (inclusive), or a comma-separated list")
	seed := flag.Uint64("seed", 0, "run this single seed (overrides -seeds)")
	nodes := flag.Int("nodes", 3, "cluster size: 3, 5 or 7")
	faults := flag.String("faults", "all", "fault kinds: all, none, or a list of "+strings.Join(sim.FaultNames(), ",")+" (prefix - to remove)")
	duration := flag.Int64("duration", 20000, "chaos phase length per seed, in virtual ms")
	keep := flag.String("keep", "", "run only these indexes of the fault schedule (as printed by a shrunk failure)")
	trace := flag.String("trace", "", "write the events of a single-seed run to this file as JSON lines")
	shrink := flag.Int("shrink", 200, "simulations to spend shrinking each failing seed's fault schedule (0: off)")
	jobs := flag.Int("j", runtime.GOMAXPROCS(0), "seeds to run in parallel")
	maxFail := flag.Int("maxfail", 5, "failures to report in full (all are counted)")
	noLin := flag.Bool("nolin", false, "skip the linearizability check")
	flag.Parse()

	if err := applyMutations(); err != nil {
		return err
	}
	f, err := sim.ParseFaults(*faults)
	if err != nil {
		return err
	}
	var list []uint64
	if *seed != 0 {
		list = []uint64{*seed}
	} else if list, err = parseSeeds(*seeds); err != nil {
		return err
	}
	base := sim.Options{Nodes: *nodes, Faults: f, Duration: *duration, NoLinearizability: *noLin}
	if *keep != "" {
		if base.Keep, err = sim.ParseKeep(*keep); err != nil {
			return err
		}
	}
	if err := base.Validate(); err != nil {
		return err
	}
	if *trace != "" {
		if len(list) != 1 {
			return fmt.Errorf("-trace needs a single seed (-seed)")
		}
		tf, err := os.Create(*trace)
		if err != nil {
			return err
		}
		defer tf.Close()
		base.Trace = tf
	}

	st := newStats()
	start := time.Now()
	work := make(chan uint64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := 0
	lastPrint := time.Now()
	for w := 0; w < max(*jobs, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				o := base
				o.Seed = s
				t0 := time.Now()
				res, err := sim.RunSeed(o)
				busy := time.Since(t0)
				mu.Lock()
				if err != nil {
					mu.Unlock()
					fmt.Fprintln(os.Stderr, err)
					continue
				}
				st.add(res, busy)
				done++
				failIdx := 0
				if res.Violation != nil {
					failIdx = st.failures
				}
				if time.Since(lastPrint) > 2*time.Second || done == len(list) {
					lastPrint = time.Now()
					el := time.Since(start).Seconds()
					fmt.Fprintf(os.Stderr, "[%d/%d] events=%d failures=%d %.0f events/s (%.0f per core) elapsed %.1fs\n",
						done, len(list), st.events, st.failures, float64(st.events)/el, st.perCore(), el)
				}
				mu.Unlock()
				if res.Violation != nil {
					report := ""
					if failIdx <= *maxFail {
						so, sres := o, res
						if *shrink > 0 && base.Trace == nil {
							so, sres = sim.Shrink(o, res, *shrink)
						}
						report = fmt.Sprintf("\n=== FAIL seed %d: %s\n", s, res.Violation)
						if so.Keep != nil && len(so.Keep) < len(res.Schedule) {
							report += fmt.Sprintf("(shrunk the fault schedule from %d to %d entries)\n", len(res.Schedule), len(so.Keep))
						}
						report += fixReplay(sim.Describe(so, sres)) + "\n"
					} else {
						report = fmt.Sprintf("FAIL seed %d: %s\n  replay: %s\n", s, res.Violation, fixReplay(sim.ReplayCommand(o)))
					}
					mu.Lock()
					fmt.Print(report)
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range list {
		work <- s
	}
	close(work)
	wg.Wait()
	st.print(time.Since(start))
	if st.failures > 0 {
		os.Exit(1)
	}
	return nil
}

func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad seed %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("bad seed range %q", part)
			}
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

type stats struct {
	seeds, failures, liveness, ops int
	events                         int64
	busy                           time.Duration
	byKind                         map[string]int
}

func newStats() *stats { return &stats{byKind: map[string]int{}} }

func (s *stats) add(r sim.Result, busy time.Duration) {
	s.seeds++
	s.events += r.Events
	s.ops += r.OpsChecked
	s.busy += busy
	if v := r.Violation; v != nil {
		s.failures++
		s.byKind[v.Kind]++
		if v.Kind == sim.KindLiveness || v.Kind == sim.KindDeadlock {
			s.liveness++
		}
	}
}

// perCore is events per second of busy time of one worker.
func (s *stats) perCore() float64 {
	if s.busy <= 0 {
		return 0
	}
	return float64(s.events) / s.busy.Seconds()
}

func (s *stats) print(wall time.Duration) {
	fmt.Println()
	fmt.Println("summary")
	row := func(k string, v any) { fmt.Printf("  %-28s %v\n", k, v) }
	row("seeds", s.seeds)
	row("events", s.events)
	row("failed seeds", s.failures)
	kinds := make([]string, 0, len(s.byKind))
	for k := range s.byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		row("violations", "none")
	}
	for _, k := range kinds {
		row("violations: "+k, s.byKind[k])
	}
	row("liveness failures", s.liveness)
	row("porcupine ops checked", s.ops)
	row("wall time", wall.Round(time.Millisecond))
	row("events/s (wall)", fmt.Sprintf("%.0f", float64(s.events)/wall.Seconds()))
	row("events/s (per core)", fmt.Sprintf("%.0f", s.perCore()))
}
