package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// which Linux fixes at 100 per second for every architecture kvbench
// targets.
const clockTick = 10 * time.Millisecond

// parsePids reads -cpu-pids: a comma-separated list of process IDs.
func parsePids(s string) ([]int, error) {
	var pids []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("-cpu-pids: %q is not a process ID", f)
		}
		pids = append(pids, p)
	}
	return pids, nil
}

// procCPU returns the CPU time (user plus system) the processes have used
// so far, read from Linux's /proc.
func procCPU(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
		}
		d, err := parseStatCPU(string(b))
		if err != nil {
			return 0, fmt.Errorf("process %d: %w", pid, err)
		}
		total += d
	}
	return total, nil
}

// parseStatCPU extracts utime+stime from the text of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may hold spaces or ')', so
// the fields are counted from the last ')': state is the first after it,
// utime the 12th and stime the 13th (fields 14 and 15 of proc(5)).
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("malformed /proc stat: CPU time %q", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}
