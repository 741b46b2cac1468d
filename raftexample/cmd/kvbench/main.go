// Command kvbench is a load generator for replicated key-value servers: it
// runs many concurrent clients against raftexample's HTTP API or against
// etcd's v3 JSON gateway, shows progress every second, and ends with the
// throughput and the p50, p99 and p999 latencies of each kind of request.
//
// Run it from the repository root with `go run ./raftexample/cmd/kvbench`
// (through the go.work workspace), or from raftexample/ with
// `go run ./cmd/kvbench`. With no flags it writes to the three-node cluster
// that `go run ./raftexample` starts.
//
// Usage:
//
//	kvbench [flags]
//	kvbench compare [-min-put-ratio R] [-max-p99-ratio R] NAME=FILE.json[,FILE.json...] ...
//
// Each client is a goroutine that sends one request at a time to its own
// endpoint (client i uses endpoint i mod len(endpoints)), choosing a GET
// with probability -read-ratio and a PUT otherwise, on a key drawn
// uniformly from -keys keys, with a fresh random value of -value-size bytes
// for every PUT. Requests sent during -warmup are not measured. Only the
// standard library is used, so the same binary loads both systems the same
// way. With -cpu-pids (Linux), the CPU time the server processes used in
// the measured time is reported too, per request: a figure that other load
// on the machine disturbs much less than throughput.
//
// With -out, the final figures are also written as JSON; the compare
// subcommand prints several such files side by side, with the ratio of the
// second to the first when there are two, and with -min-put-ratio and
// -max-p99-ratio says whether the second met a throughput and p99 target
// relative to the first. bench/kvcompare.sh uses both.
//
// The exit status is 0 when the run completed some requests, 1 when every
// request failed, and 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// defaultEndpoints are the client URLs of the three-node cluster that
// `go run ./raftexample` starts with no flags.
const defaultEndpoints = "http://127.0.0.1:12381,http://127.0.0.1:12382,http://127.0.0.1:12383"

// config is one run's settings, filled from the flags.
type config struct {
	target       string        // targetRaftexample or targetEtcd
	endpoints    []string      // base URLs, without trailing slash
	clients      int           // concurrent clients, >= 1
	readRatio    float64       // fraction of requests that are GETs, in [0, 1]
	valueSize    int           // bytes per PUT value, >= 0
	keys         int           // size of the key space, >= 1
	duration     time.Duration // measured time, > 0
	warmup       time.Duration // unmeasured time before it, >= 0
	timeout      time.Duration // per-request timeout, > 0
	serializable bool          // reads from the contacted node alone
	seed         uint64        // seeds the clients' key, kind and value choices
	out          string        // JSON summary path; "" for none
	cpuPids      []int         // server processes whose CPU time to report
	label        string        // name of the run in the summary
}

// validate reports the first setting that cannot work, naming its flag.
func (c *config) validate() error {
	switch {
	case c.target != targetRaftexample && c.target != targetEtcd:
		return fmt.Errorf("-target %q: want %q or %q", c.target, targetRaftexample, targetEtcd)
	case len(c.endpoints) == 0:
		return errors.New("-endpoints: at least one endpoint is needed")
	case c.clients < 1:
		return fmt.Errorf("-clients %d: must be at least 1", c.clients)
	case !(c.readRatio >= 0 && c.readRatio <= 1): // also refuses NaN
		return fmt.Errorf("-read-ratio %v: must be between 0 and 1", c.readRatio)
	case c.valueSize < 0:
		return fmt.Errorf("-value-size %d: must not be negative", c.valueSize)
	case c.keys < 1:
		return fmt.Errorf("-keys %d: must be at least 1", c.keys)
	case c.duration <= 0:
		return fmt.Errorf("-duration %v: must be positive", c.duration)
	case c.warmup < 0:
		return fmt.Errorf("-warmup %v: must not be negative", c.warmup)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout %v: must be positive", c.timeout)
	}
	return nil
}

// parseEndpoints splits a comma-separated list of base URLs, checking that
// each is an absolute http or https URL with a host and no query, and drops
// trailing slashes so that paths can be appended.
func parseEndpoints(s string) ([]string, error) {
	var eps []string
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			return nil, fmt.Errorf("-endpoints: %q: want an http:// or https:// URL", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("-endpoints: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("-endpoints: %q: want an http:// or https:// URL", raw)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("-endpoints: %q: no host", raw)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("-endpoints: %q: a base URL takes no query or fragment", raw)
		}
		eps = append(eps, strings.TrimRight(raw, "/"))
	}
	if len(eps) == 0 {
		return nil, errors.New("-endpoints: at least one endpoint is needed")
	}
	return eps, nil
}

// parseFlags reads the run's settings from args. Flag errors and -h are
// reported on stderr by the flag package and returned.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("kvbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kvbench [flags]\n       kvbench compare [-min-put-ratio R] [-max-p99-ratio R] NAME=FILE.json ...\n\nflags:\n")
		fs.PrintDefaults()
	}
	endpoints := fs.String("endpoints", defaultEndpoints, "comma-separated base URLs of the servers")
	fs.StringVar(&c.target, "target", targetRaftexample, "protocol: raftexample (HTTP /kv/{key}) or etcd (v3 JSON gateway)")
	fs.IntVar(&c.clients, "clients", 64, "concurrent clients, each with one request in flight")
	fs.Float64Var(&c.readRatio, "read-ratio", 0, "fraction of requests that are GETs (0 = writes only)")
	fs.IntVar(&c.valueSize, "value-size", 256, "bytes per PUT value")
	fs.IntVar(&c.keys, "keys", 10000, "number of distinct keys")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured run time")
	fs.DurationVar(&c.warmup, "warmup", 0, "unmeasured load before the measured time")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&c.serializable, "serializable", false, "serializable (local) reads instead of linearizable ones")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed for keys, request kinds and values")
	fs.StringVar(&c.out, "out", "", "also write the final figures as JSON to this file")
	fs.StringVar(&c.label, "label", "", "name of the run in the JSON summary (default: the target)")
	cpuPids := fs.String("cpu-pids", "", "comma-separated server process IDs whose CPU time (from Linux /proc) to report per request")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (flags only, or the compare subcommand first)", fs.Arg(0))
	}
	eps, err := parseEndpoints(*endpoints)
	if err != nil {
		return config{}, err
	}
	c.endpoints = eps
	if c.cpuPids, err = parsePids(*cpuPids); err != nil {
		return config{}, err
	}
	if _, err := procCPU(c.cpuPids); err != nil {
		return config{}, fmt.Errorf("-cpu-pids: %w", err)
	}
	if c.label == "" {
		c.label = c.target
	}
	if err := c.validate(); err != nil {
		return config{}, err
	}
	return c, nil
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs kvbench with args and returns the exit status.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		if err := compare(args[1:], stdout); err != nil {
			fmt.Fprintln(stderr, "kvbench compare:", err)
			return 2
		}
		return 0
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "kvbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum := run(ctx, cfg, stdout)
	sum.print(stdout)
	if cfg.out != "" {
		if err := sum.writeJSON(cfg.out); err != nil {
			fmt.Fprintln(stderr, "kvbench:", err)
			return 1
		}
	}
	if sum.All.Ops == 0 {
		fmt.Fprintln(stderr, "kvbench: no request succeeded")
		return 1
	}
	return 0
}
