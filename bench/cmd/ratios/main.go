// Command ratios summarizes the comparison benchmark runs made by
// bench/run.sh as a Markdown table: for every workload, the median
// throughput and allocations per unit of work of each implementation, and
// how this library compares (throughput ×, allocation ratio).
//
// Usage:
//
//	go run ./cmd/ratios ours=ours.txt etcd37=etcd37.txt etcd36=etcd36.txt
//
// Each argument names an implementation and a file of `go test -bench`
// output. The first is the one compared against the others. Benchmarks are
// matched by name without the GOMAXPROCS suffix; the unit ending in "/s"
// is the throughput and the one starting with "allocs/" the allocations.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// input is one implementation's results: benchmark name → unit → samples.
type input struct {
	label   string
	samples map[string]map[string][]float64
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

func readInput(arg string) (*input, error) {
	label, path, ok := strings.Cut(arg, "=")
	if !ok || label == "" || path == "" {
		return nil, fmt.Errorf("argument %q: want label=file", arg)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	in := &input{label: label, samples: map[string]map[string][]float64{}}
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // unit metadata or a syntax error; benchstat reports those
		}
		name := procsSuffix.ReplaceAllString(string(res.Name.Full()), "")
		units := in.samples[name]
		if units == nil {
			units = map[string][]float64{}
			in.samples[name] = units
		}
		for _, v := range res.Values {
			units[v.Unit] = append(units[v.Unit], v.Value)
		}
	}
	return in, r.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// unitOf returns the unit of name's results in in that matches pred.
func unitOf(in *input, name string, pred func(string) bool) string {
	var units []string
	for u := range in.samples[name] {
		if pred(u) {
			units = append(units, u)
		}
	}
	sort.Strings(units)
	if len(units) == 0 {
		return ""
	}
	return units[0]
}

func isRate(u string) bool   { return strings.HasSuffix(u, "/s") }
func isAllocs(u string) bool { return strings.HasPrefix(u, "allocs/") }
func isBytes(u string) bool  { return strings.HasPrefix(u, "B/") }

// num formats a value with three significant digits and a k/M suffix.
func num(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v >= 999.5e3:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 999.5:
		return fmt.Sprintf("%.3gk", v/1e3)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

type table struct {
	w    io.Writer
	ins  []*input
	rows []string // the first input's benchmark names, sorted
}

// metric prints one Markdown table for the unit pred selects: medians per
// implementation, then the first input relative to each other one (higher
// is better for rates, so the ratio is ours/theirs; for costs as well, and
// lower is better).
func (t *table) metric(title string, pred func(string) bool) {
	fmt.Fprintf(t.w, "\n%s\n\n| workload | unit |", title)
	for _, in := range t.ins {
		fmt.Fprintf(t.w, " %s |", in.label)
	}
	for _, in := range t.ins[1:] {
		fmt.Fprintf(t.w, " %s/%s |", t.ins[0].label, in.label)
	}
	fmt.Fprintf(t.w, "\n|---|---|%s\n", strings.Repeat("--:|", 2*len(t.ins)-1))
	for _, name := range t.rows {
		unit := unitOf(t.ins[0], name, pred)
		if unit == "" {
			continue
		}
		meds := make([]float64, len(t.ins))
		for i, in := range t.ins {
			meds[i] = median(in.samples[name][unit])
		}
		fmt.Fprintf(t.w, "| %s | %s |", name, unit)
		for _, m := range meds {
			fmt.Fprintf(t.w, " %s |", num(m))
		}
		for _, m := range meds[1:] {
			fmt.Fprintf(t.w, " %s |", ratio(meds[0], m))
		}
		fmt.Fprintln(t.w)
	}
}

// others prints the medians of the remaining units (ticks/election...)
// that the main tables do not show. Times per unit (benchfmt turns ns/x
// into sec/x) are left out: they are the inverse of the throughput.
func (t *table) others() {
	shown := func(u string) bool {
		return isRate(u) || isAllocs(u) || isBytes(u) || strings.HasPrefix(u, "sec/")
	}
	var lines []string
	for _, name := range t.rows {
		for u := range t.ins[0].samples[name] {
			if shown(u) {
				continue
			}
			line := fmt.Sprintf("| %s | %s |", name, u)
			for _, in := range t.ins {
				line += fmt.Sprintf(" %s |", num(median(in.samples[name][u])))
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return
	}
	sort.Strings(lines)
	fmt.Fprintf(t.w, "\nOther metrics (medians)\n\n| workload | unit |")
	for _, in := range t.ins {
		fmt.Fprintf(t.w, " %s |", in.label)
	}
	fmt.Fprintf(t.w, "\n|---|---|%s\n", strings.Repeat("--:|", len(t.ins)))
	for _, l := range lines {
		fmt.Fprintln(t.w, l)
	}
}

func run(args []string, w io.Writer) error {
	if len(args) < 2 {
		return errors.New("usage: ratios label=file label=file [label=file ...]")
	}
	t := &table{w: w}
	for _, a := range args {
		in, err := readInput(a)
		if err != nil {
			return err
		}
		t.ins = append(t.ins, in)
	}
	for name := range t.ins[0].samples {
		t.rows = append(t.rows, name)
	}
	sort.Strings(t.rows)
	runs := 0
	for _, units := range t.ins[0].samples {
		for _, s := range units {
			runs = max(runs, len(s))
		}
	}
	fmt.Fprintf(w, "Medians of up to %d runs per implementation. Ratios are %s divided by the other.\n", runs, t.ins[0].label)
	t.metric("Throughput (higher is better; ratio > 1 means faster)", isRate)
	t.metric("Allocations per unit (lower is better; ratio < 1 means fewer)", isAllocs)
	t.metric("Bytes allocated per unit (lower is better)", isBytes)
	t.others()
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(2)
	}
}
