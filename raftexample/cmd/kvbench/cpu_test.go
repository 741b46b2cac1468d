package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 1000 100000 200"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 325 * clockTick; got != want {
		t.Fatalf("parseStatCPU = %v, want %v (utime 250 + stime 75 ticks)", got, want)
	}
	for _, bad := range []string{
		"",
		"4242 no parens S 1",
		"4242 (cmd) S 1 2 3",
		"4242 (cmd) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 75 0",
		"4242 (cmd) S 1 4242 4242 0 -1 4194560 1234 0 0 0 -5 75 0",
	} {
		if _, err := parseStatCPU(bad); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("parseStatCPU(%q): err %v, want a malformed-stat error", bad, err)
		}
	}
}

func TestProcCPUSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	self := []int{os.Getpid()}
	before, err := procCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the clock moves by at least one tick; the loop ends
	// when it does, so no timing is asserted.
	after := before
	for x := 0; after == before; x++ {
		for i := range 1_000_000 {
			x ^= i
		}
		if after, err = procCPU(self); err != nil {
			t.Fatal(err)
		}
	}
	if after < before {
		t.Fatalf("CPU time went backwards: %v then %v", before, after)
	}
}

func TestCPUPidsFlag(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	c, err := parseFlags([]string{"-cpu-pids", " " + strconv.Itoa(os.Getpid()) + ", "}, io.Discard)
	if err != nil || len(c.cpuPids) != 1 || c.cpuPids[0] != os.Getpid() {
		t.Fatalf("-cpu-pids with this process: pids %v err %v", c.cpuPids, err)
	}
	for _, tc := range []struct{ arg, want string }{
		{"abc", `"abc" is not a process ID`},
		{"0", `"0" is not a process ID`},
		{"-3", `"-3" is not a process ID`},
		{"999999999", "reading the CPU time of process 999999999"},
	} {
		if _, err := parseFlags([]string{"-cpu-pids", tc.arg}, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-cpu-pids %s: err %v, want one containing %q", tc.arg, err, tc.want)
		}
	}
}

func TestSummaryCPUFigures(t *testing.T) {
	s := &summary{Seconds: 10, ServerCPU: 5, All: kindSummary{Ops: 1000}}
	if got := s.cpuPerOp(); got != 5*time.Millisecond {
		t.Errorf("cpuPerOp = %v, want 5ms (5 s over 1000 requests)", got)
	}
	if got := s.cpuCores(); got != 0.5 {
		t.Errorf("cpuCores = %v, want 0.5", got)
	}
	empty := &summary{}
	if empty.cpuPerOp() != 0 || empty.cpuCores() != 0 {
		t.Errorf("an empty summary gives CPU %v per op, %v cores; want zeros", empty.cpuPerOp(), empty.cpuCores())
	}
}
