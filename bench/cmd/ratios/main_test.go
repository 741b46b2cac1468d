package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRun checks medians (odd and even sample counts), the ratio columns
// and that the GOMAXPROCS suffix does not split a workload.
func TestRun(t *testing.T) {
	ours := writeFile(t, "ours.txt", `pkg: example/ours
BenchmarkW/x=1-2   10   100 ns/op   300 entries/s   2 allocs/entry   7 ticks/election
BenchmarkW/x=1-2   10   100 ns/op   100 entries/s   4 allocs/entry   7 ticks/election
BenchmarkW/x=1-2   10   100 ns/op   200 entries/s   3 allocs/entry   7 ticks/election
`)
	theirs := writeFile(t, "theirs.txt", `pkg: example/theirs
BenchmarkW/x=1-4   10   100 ns/op   100 entries/s   12 allocs/entry   9 ticks/election
BenchmarkW/x=1-4   10   100 ns/op    50 entries/s    8 allocs/entry   9 ticks/election
`)
	var out strings.Builder
	if err := run([]string{"ours=" + ours, "etcd=" + theirs}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| W/x=1 | entries/s | 200 | 75 | 2.67 |",
		"| W/x=1 | allocs/entry | 3 | 10 | 0.30 |",
		"| W/x=1 | ticks/election | 7 | 9 |",
		"| workload | unit | ours | etcd | ours/etcd |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestRunBadArgs(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"only-one"}, &out); err == nil {
		t.Error("one argument: want a usage error")
	}
	if err := run([]string{"a", "b=x"}, &out); err == nil {
		t.Error("argument without '=': want an error")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "–", 0.0734: "0.0734", 7.5: "7.5", 122: "122", 999.4: "999",
		999.6: "1k", 7051: "7.05k", 85900: "85.9k", 999600: "1M", 2.38e6: "2.38M",
	} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
