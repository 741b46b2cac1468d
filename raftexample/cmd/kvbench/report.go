package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// summary is a run's final figures, printed and optionally saved as JSON.
type summary struct {
	Label     string   `json:"label"`
	Target    string   `json:"target"`
	Endpoints []string `json:"endpoints"`
	Clients   int      `json:"clients"`
	ReadRatio float64  `json:"read_ratio"`
	ValueSize int      `json:"value_size"`
	Keys      int      `json:"keys"`
	// Seconds is the measured time: from the end of the warmup until the
	// last measured request finished.
	Seconds float64      `json:"seconds"`
	Put     kindSummary  `json:"put"`
	Get     kindSummary  `json:"get"`
	All     kindSummary  `json:"all"`
	Misses  uint64       `json:"get_misses"`
	Errors  []errorClass `json:"errors,omitempty"`
	// ServerCPU is the CPU time, in seconds, the -cpu-pids processes used
	// in the measured time; CPUError says why it is missing when asked for.
	ServerCPU float64 `json:"server_cpu_seconds,omitempty"`
	CPUError  string  `json:"server_cpu_error,omitempty"`
}

// cpuPerOp returns the servers' CPU time per successful request, or 0.
func (s *summary) cpuPerOp() time.Duration {
	if s.All.Ops == 0 {
		return 0
	}
	return time.Duration(s.ServerCPU * float64(time.Second) / float64(s.All.Ops))
}

// cpuCores returns the servers' average CPU use in cores, or 0.
func (s *summary) cpuCores() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return s.ServerCPU / s.Seconds
}

// kindSummary holds the figures for one kind of request (or all of them).
// Latencies count successful requests only, in nanoseconds.
type kindSummary struct {
	Ops       uint64        `json:"ops"`
	OpsPerSec float64       `json:"ops_per_sec"`
	Errors    uint64        `json:"errors"`
	Mean      time.Duration `json:"mean_ns"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	P999      time.Duration `json:"p999_ns"`
	Max       time.Duration `json:"max_ns"`
}

func newKindSummary(h *histogram, errs uint64, seconds float64) kindSummary {
	ks := kindSummary{
		Ops:    h.count(),
		Errors: errs,
		Mean:   h.mean(),
		P50:    h.quantile(0.50),
		P99:    h.quantile(0.99),
		P999:   h.quantile(0.999),
		Max:    h.max,
	}
	if seconds > 0 {
		ks.OpsPerSec = float64(ks.Ops) / seconds
	}
	return ks
}

// summarize merges the clients' results into the run's figures.
func summarize(cfg config, results []clientResult, measureFrom time.Time) *summary {
	var hist [numKinds]histogram
	var all histogram
	var errs [numKinds]uint64
	var misses uint64
	last := measureFrom
	classes := map[string]*errorClass{}
	for i := range results {
		r := &results[i]
		for k := range numKinds {
			hist[k].merge(&r.hist[k])
			all.merge(&r.hist[k])
			errs[k] += r.errors[k]
		}
		misses += r.misses
		if r.last.After(last) {
			last = r.last
		}
		for name, ec := range r.classes {
			if sum := classes[name]; sum != nil {
				sum.Count += ec.Count
			} else {
				c := *ec
				classes[name] = &c
			}
		}
	}
	secs := last.Sub(measureFrom).Seconds()
	s := &summary{
		Label:     cfg.label,
		Target:    cfg.target,
		Endpoints: cfg.endpoints,
		Clients:   cfg.clients,
		ReadRatio: cfg.readRatio,
		ValueSize: cfg.valueSize,
		Keys:      cfg.keys,
		Seconds:   secs,
		Put:       newKindSummary(&hist[kindPut], errs[kindPut], secs),
		Get:       newKindSummary(&hist[kindGet], errs[kindGet], secs),
		All:       newKindSummary(&all, errs[kindPut]+errs[kindGet], secs),
		Misses:    misses,
	}
	for _, ec := range classes {
		s.Errors = append(s.Errors, *ec)
	}
	slices.SortFunc(s.Errors, func(a, b errorClass) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Class, b.Class))
	})
	return s
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(100 * time.Nanosecond).String()
}

// print writes the final report.
func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s: %.1fs measured\n", s.Label, s.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tops\tops/s\terrors\tmean\tp50\tp99\tp999\tmax\t")
	for _, row := range []struct {
		name string
		ks   kindSummary
	}{{"put", s.Put}, {"get", s.Get}, {"all", s.All}} {
		if row.ks.Ops == 0 && row.ks.Errors == 0 && row.name != "all" {
			continue
		}
		ks := row.ks
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%s\t%s\t%s\t%s\t%s\t\n", row.name, ks.Ops, ks.OpsPerSec, ks.Errors,
			fmtDur(ks.Mean), fmtDur(ks.P50), fmtDur(ks.P99), fmtDur(ks.P999), fmtDur(ks.Max))
	}
	_ = tw.Flush()
	if s.Get.Ops > 0 {
		fmt.Fprintf(w, "get misses (key not found): %d\n", s.Misses)
	}
	for _, ec := range s.Errors {
		fmt.Fprintf(w, "errors: %d × %s, first: %s\n", ec.Count, ec.Class, ec.First)
	}
	if s.ServerCPU > 0 {
		fmt.Fprintf(w, "server CPU: %.2fs (%.2f cores), %s per request\n", s.ServerCPU, s.cpuCores(), fmtDur(s.cpuPerOp()))
	}
	if s.CPUError != "" {
		fmt.Fprintf(w, "server CPU: not measured: %s\n", s.CPUError)
	}
}

// writeJSON saves the summary to path.
func (s *summary) writeJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// medianSummary returns, for several runs of the same load, a summary
// whose every per-kind figure is the median of that figure over the runs
// (the upper median for an even count), so that one run disturbed by other
// load on the machine does not decide a comparison. One run is returned
// as is.
func medianSummary(runs []*summary) *summary {
	if len(runs) == 1 {
		return runs[0]
	}
	m := *runs[0]
	kinds := []func(*summary) *kindSummary{
		func(s *summary) *kindSummary { return &s.Put },
		func(s *summary) *kindSummary { return &s.Get },
		func(s *summary) *kindSummary { return &s.All },
	}
	for _, ks := range kinds {
		out := ks(&m)
		vals := func(f func(*kindSummary) float64) float64 {
			v := make([]float64, len(runs))
			for i, r := range runs {
				v[i] = f(ks(r))
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		*out = kindSummary{
			Ops:       uint64(vals(func(k *kindSummary) float64 { return float64(k.Ops) })),
			OpsPerSec: vals(func(k *kindSummary) float64 { return k.OpsPerSec }),
			Errors:    uint64(vals(func(k *kindSummary) float64 { return float64(k.Errors) })),
			Mean:      time.Duration(vals(func(k *kindSummary) float64 { return float64(k.Mean) })),
			P50:       time.Duration(vals(func(k *kindSummary) float64 { return float64(k.P50) })),
			P99:       time.Duration(vals(func(k *kindSummary) float64 { return float64(k.P99) })),
			P999:      time.Duration(vals(func(k *kindSummary) float64 { return float64(k.P999) })),
			Max:       time.Duration(vals(func(k *kindSummary) float64 { return float64(k.Max) })),
		}
	}
	cpu := make([]float64, len(runs))
	secs := make([]float64, len(runs))
	for i, r := range runs {
		cpu[i], secs[i] = r.ServerCPU, r.Seconds
	}
	slices.Sort(cpu)
	slices.Sort(secs)
	m.ServerCPU, m.Seconds = cpu[len(cpu)/2], secs[len(secs)/2]
	return &m
}

// readSummary loads a summary written by writeJSON.
func readSummary(path string) (*summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a kvbench summary: %w", path, err)
	}
	return &s, nil
}

// compareUsage is the compare subcommand's synopsis.
const compareUsage = "usage: kvbench compare [-min-put-ratio R] [-max-p99-ratio R] NAME=FILE.json[,FILE.json...] [NAME=FILE.json...]"

// compare prints the summaries named by args (each NAME=FILE, or
// NAME=FILE,FILE,... for the medians of several runs) side by side, with
// the ratio of the second column to the first when there are exactly
// two. With -min-put-ratio or -max-p99-ratio (two summaries only), it also
// says whether the second run met a target relative to the first: PUT
// throughput at least R times, PUT p99 at most R times.
func compare(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("kvbench compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	minPut := fs.Float64("min-put-ratio", 0, "target: second PUT ops/s at least this times the first's (0: no check)")
	maxP99 := fs.Float64("max-p99-ratio", 0, "target: second PUT p99 at most this times the first's (0: no check)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, compareUsage)
	}
	args = fs.Args()
	if len(args) == 0 {
		return errors.New(compareUsage)
	}
	if (*minPut != 0 || *maxP99 != 0) && len(args) != 2 {
		return errors.New("-min-put-ratio and -max-p99-ratio compare exactly two summaries")
	}
	var names, counts []string
	var sums []*summary
	multi := false
	for _, a := range args {
		name, paths, ok := strings.Cut(a, "=")
		if !ok || name == "" || paths == "" {
			return fmt.Errorf("argument %q: want NAME=FILE.json", a)
		}
		var runs []*summary
		for _, p := range strings.Split(paths, ",") {
			s, err := readSummary(p)
			if err != nil {
				return err
			}
			runs = append(runs, s)
		}
		counts = append(counts, fmt.Sprintf("%s %d", name, len(runs)))
		multi = multi || len(runs) > 1
		names = append(names, name)
		sums = append(sums, medianSummary(runs))
	}
	ratio := len(sums) == 2
	if multi {
		fmt.Fprintf(w, "each figure is the median over the runs (%s)\n", strings.Join(counts, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t", n)
	}
	if ratio {
		fmt.Fprintf(tw, "%s/%s\t", names[1], names[0])
	}
	fmt.Fprintln(tw)

	type metric struct {
		name string
		get  func(*summary) float64
		dur  bool // print as a duration; otherwise with two decimals below 10
	}
	var metrics []metric
	for _, k := range []struct {
		name string
		ks   func(*summary) *kindSummary
	}{{"put", func(s *summary) *kindSummary { return &s.Put }}, {"get", func(s *summary) *kindSummary { return &s.Get }}} {
		used := false
		for _, s := range sums {
			if ks := k.ks(s); ks.Ops > 0 || ks.Errors > 0 {
				used = true
			}
		}
		if !used {
			continue
		}
		ks := k.ks
		metrics = append(metrics,
			metric{k.name + " ops/s", func(s *summary) float64 { return ks(s).OpsPerSec }, false},
			metric{k.name + " p50", func(s *summary) float64 { return float64(ks(s).P50) }, true},
			metric{k.name + " p99", func(s *summary) float64 { return float64(ks(s).P99) }, true},
			metric{k.name + " p999", func(s *summary) float64 { return float64(ks(s).P999) }, true},
			metric{k.name + " errors", func(s *summary) float64 { return float64(ks(s).Errors) }, false},
		)
	}
	for _, s := range sums {
		if s.ServerCPU > 0 {
			metrics = append(metrics,
				metric{"server CPU/request", func(s *summary) float64 { return float64(s.cpuPerOp()) }, true},
				metric{"server CPU cores", func(s *summary) float64 { return s.cpuCores() }, false},
			)
			break
		}
	}
	for _, m := range metrics {
		fmt.Fprintf(tw, "%s\t", m.name)
		for _, s := range sums {
			v := m.get(s)
			if m.dur {
				fmt.Fprintf(tw, "%s\t", fmtDur(time.Duration(v)))
			} else if v < 10 && v != float64(int64(v)) {
				fmt.Fprintf(tw, "%.2f\t", v)
			} else {
				fmt.Fprintf(tw, "%.0f\t", v)
			}
		}
		if ratio {
			a, b := m.get(sums[0]), m.get(sums[1])
			if a > 0 {
				fmt.Fprintf(tw, "%.2f×\t", b/a)
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *minPut != 0 || *maxP99 != 0 {
		verdict(w, names, sums[0], sums[1], *minPut, *maxP99)
	}
	return nil
}

// verdict prints whether b met the targets relative to a.
func verdict(w io.Writer, names []string, a, b *summary, minPut, maxP99 float64) {
	met := true
	if minPut != 0 {
		r := 0.0
		if a.Put.OpsPerSec > 0 {
			r = b.Put.OpsPerSec / a.Put.OpsPerSec
		}
		ok := a.Put.OpsPerSec > 0 && r >= minPut
		met = met && ok
		fmt.Fprintf(w, "target: %s PUT throughput %.0f/s = %.2f× %s's %.0f/s (want ≥ %.2f×): %s\n",
			names[1], b.Put.OpsPerSec, r, names[0], a.Put.OpsPerSec, minPut, metWord(ok))
	}
	if maxP99 != 0 {
		r := 0.0
		if a.Put.P99 > 0 {
			r = float64(b.Put.P99) / float64(a.Put.P99)
		}
		ok := a.Put.P99 > 0 && b.Put.Ops > 0 && r <= maxP99
		met = met && ok
		fmt.Fprintf(w, "target: %s PUT p99 %s = %.2f× %s's %s (want ≤ %.2f×): %s\n",
			names[1], fmtDur(b.Put.P99), r, names[0], fmtDur(a.Put.P99), maxP99, metWord(ok))
	}
	fmt.Fprintf(w, "target overall: %s\n", metWord(met))
}

func metWord(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}
