// Command raftexample is a replicated key-value server built on the raft
// library: pebble for the log and snapshots, gRPC between peers, and an
// HTTP API for clients.
//
// With no flags it runs a 3-node cluster inside one process on loopback
// ports, keeping its data under ./raftexample-data:
//
//	go run ./raftexample
//
// With flags it runs one node of a cluster spread over processes or hosts:
//
//	raftexample --id 1 --cluster 1=10.0.0.1:12391,2=10.0.0.2:12391,3=10.0.0.3:12391 \
//	    --data-dir /var/lib/raftexample --listen-client :12381
//
// A node added later is started with --join (and a --cluster listing the
// existing members and itself) after POST /cluster/members on a member.
//
// The HTTP API: PUT, GET and DELETE /kv/{key}; GET /kv?prefix=; POST
// /cluster/members; DELETE /cluster/members/{id}; GET /cluster/status; GET
// /metrics. Errors are JSON objects with an "error" field.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// options are the command-line flags.
type options struct {
	id            uint64
	cluster       string
	dataDir       string
	listenClient  string
	listenPeer    string
	join          bool
	clusterToken  string
	tick          time.Duration
	snapshotCount uint64
	maxValueBytes int64
	timeout       time.Duration
	peerCert      string
	peerKey       string
	peerCA        string
	raftLog       string
	enablePprof   bool
	asyncWrites   bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("raftexample", flag.ContinueOnError)
	fs.Uint64Var(&o.id, "id", 0, "this node's ID; without it, run a 3-node cluster in this process")
	fs.StringVar(&o.cluster, "cluster", "", "the cluster's members as id=host:port peer addresses, comma-separated")
	fs.StringVar(&o.dataDir, "data-dir", "", "where this node keeps its data (default ./raftexample-data/node<id>)")
	fs.StringVar(&o.listenClient, "listen-client", "", "HTTP API address (default 127.0.0.1:<12380+id>)")
	fs.StringVar(&o.listenPeer, "listen-peer", "", "peer (gRPC) listen address (default: this node's address in --cluster)")
	fs.BoolVar(&o.join, "join", false, "join a running cluster instead of bootstrapping a new one")
	fs.StringVar(&o.clusterToken, "cluster-token", "raftexample", "a name for the cluster; a data directory only opens with the token it was created with")
	fs.DurationVar(&o.tick, "tick", 100*time.Millisecond, "raft tick; elections time out after 10 ticks, heartbeats go every tick")
	fs.Uint64Var(&o.snapshotCount, "snapshot-entries", 10000, "take a snapshot (and compact the log) every this many applied entries")
	fs.Int64Var(&o.maxValueBytes, "max-value-bytes", 1<<20, "largest value a PUT may store; larger bodies get 413")
	fs.DurationVar(&o.timeout, "request-timeout", 5*time.Second, "how long a request waits for raft before answering 503")
	fs.StringVar(&o.peerCert, "peer-cert", "", "PEM certificate for mutual TLS between peers")
	fs.StringVar(&o.peerKey, "peer-key", "", "PEM key for --peer-cert")
	fs.StringVar(&o.peerCA, "peer-ca", "", "PEM CA that signs every peer's certificate")
	fs.BoolVar(&o.asyncWrites, "async-storage-writes", true, "write and apply off the raft loop (raft's AsyncStorageWrites); false does both in the loop, before Advance")
	fs.BoolVar(&o.enablePprof, "enable-pprof", false, "serve Go's profiles under /debug/pprof/ on the client address")
	fs.StringVar(&o.raftLog, "raft-log", "warn", "level of the raft library's log on stderr: debug, info, warn, error or off")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "raftexample: %v\n", err)
		os.Exit(2)
	}
	raiseProcs()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := runCommand(o, sig, nil); err != nil {
		fmt.Fprintf(os.Stderr, "raftexample: %v\n", err)
		os.Exit(1)
	}
}

// localClusterSize is the size of the cluster run without --id.
const localClusterSize = 3

// runCommand starts the nodes o describes, calls started (if not nil) with
// them, and runs until a signal arrives on sig, then closes every node
// cleanly: HTTP and peer traffic stop, raft stops, pebble is flushed and
// closed.
func runCommand(o *options, sig <-chan os.Signal, started func([]*server)) error {
	tlsf, err := newTLSFiles(o.peerCert, o.peerKey, o.peerCA)
	if err != nil {
		return err
	}
	raftLogger, err := newRaftLogger(o.raftLog)
	if err != nil {
		return err
	}
	base := serverConfig{
		raftLogger:         raftLogger,
		join:               o.join,
		clusterToken:       o.clusterToken,
		tick:               o.tick,
		snapshotEntries:    o.snapshotCount,
		maxValueBytes:      o.maxValueBytes,
		requestTimeout:     o.timeout,
		enablePprof:        o.enablePprof,
		asyncStorageWrites: o.asyncWrites,
		tls:                tlsf,
	}
	var cfgs []serverConfig
	if o.id == 0 {
		if o.cluster != "" || o.join || o.listenClient != "" || o.listenPeer != "" {
			return errors.New("--cluster, --join, --listen-client and --listen-peer need --id")
		}
		dir := o.dataDir
		if dir == "" {
			dir = "raftexample-data"
		}
		cluster := map[uint64]string{}
		for id := uint64(1); id <= localClusterSize; id++ {
			cluster[id] = fmt.Sprintf("127.0.0.1:%d", 12390+id)
		}
		for id := uint64(1); id <= localClusterSize; id++ {
			c := base
			c.id, c.cluster = id, cluster
			c.dataDir = filepath.Join(dir, fmt.Sprintf("node%d", id))
			c.listenClient = fmt.Sprintf("127.0.0.1:%d", 12380+id)
			cfgs = append(cfgs, c)
		}
	} else {
		cluster, err := parseCluster(o.cluster)
		if err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		c := base
		c.id, c.cluster, c.listenPeer = o.id, cluster, o.listenPeer
		c.dataDir = o.dataDir
		if c.dataDir == "" {
			c.dataDir = filepath.Join("raftexample-data", fmt.Sprintf("node%d", o.id))
		}
		c.listenClient = o.listenClient
		if c.listenClient == "" {
			c.listenClient = fmt.Sprintf("127.0.0.1:%d", 12380+o.id)
		}
		cfgs = append(cfgs, c)
	}

	var servers []*server
	closeAll := func() {
		for _, s := range servers {
			if err := s.close(); err != nil {
				log.Printf("node %d: closing: %v", s.cfg.id, err)
			}
		}
	}
	for _, c := range cfgs {
		s, err := startServer(c)
		if err != nil {
			closeAll()
			return fmt.Errorf("node %d: %w", c.id, err)
		}
		servers = append(servers, s)
	}
	var eps []string
	for _, s := range servers {
		eps = append(eps, "http://"+s.clientAddr())
		fmt.Printf("node %d: client http://%s, peer %s, data %s\n", s.cfg.id, s.clientAddr(), s.peerAddr(), s.cfg.dataDir)
	}
	fmt.Printf("\nTry:\n  curl -X PUT --data-binary hello %s/kv/greeting\n  curl %s/kv/greeting\n  curl %s/cluster/status\n\n",
		eps[0], eps[len(eps)-1], eps[0])
	fmt.Printf("endpoints: %s\n", strings.Join(eps, ","))
	if started != nil {
		started(servers)
	}
	got := <-sig
	log.Printf("%v: flushing and closing", got)
	closeAll()
	return nil
}

// newRaftLogger returns a console logger on stderr at the given level, or
// nil for "off".
func newRaftLogger(level string) (*zap.Logger, error) {
	if level == "off" {
		return nil, nil
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--raft-log: %w", err)
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	cfg.Development = false
	return cfg.Build()
}
