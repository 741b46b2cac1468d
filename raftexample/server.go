package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// serverConfig describes one node. Zero durations and counts take the
// defaults of withDefaults.
type serverConfig struct {
	id uint64
	// cluster maps every initial member (this node included) to its peer
	// address. For a node that joins a running cluster it lists the
	// members it can reach, itself included.
	cluster map[uint64]string
	// join starts the node empty, without bootstrapping: it waits for the
	// leader to add it (POST /cluster/members) and to send it the log.
	join         bool
	dataDir      string
	clusterToken string // names the cluster; a data dir remembers it

	listenClient string // HTTP address; ignored if clientLn is set
	listenPeer   string // gRPC address; ignored if peerLn is set; default cluster[id]
	clientLn     net.Listener
	peerLn       net.Listener

	tick            time.Duration // one raft tick
	electionTicks   int
	heartbeatTicks  int
	snapshotEntries uint64 // take a snapshot every this many applied entries
	catchUpEntries  uint64 // entries kept in the log behind a snapshot
	maxValueBytes   int64  // PUT bodies above this get 413
	requestTimeout  time.Duration
	noSync          bool // tests only: no fsync
	// failWrite, if set, can fail any log write (tests only; see
	// storageOptions).
	failWrite func() error
	// fs, if set, is pebble's file system (tests only; see storageOptions).
	fs vfs.FS
	// asyncStorageWrites runs raft with Config.AsyncStorageWrites: the
	// node loop hands its log writes to the append goroutine (see
	// loop_async.go) instead of doing them itself before Advance.
	asyncStorageWrites bool
	enablePprof        bool // serve /debug/pprof/ on the client address

	tls *tlsFiles // nil: plaintext between peers

	logger *log.Logger // nil: the standard logger, prefixed with the node ID
	// raftLogger receives the raft library's structured log; nil: none.
	raftLogger *zap.Logger
}

func (c serverConfig) withDefaults() serverConfig {
	if c.clusterToken == "" {
		c.clusterToken = "raftexample"
	}
	if c.tick == 0 {
		c.tick = 100 * time.Millisecond
	}
	if c.electionTicks == 0 {
		c.electionTicks = 10
	}
	if c.heartbeatTicks == 0 {
		c.heartbeatTicks = 1
	}
	if c.snapshotEntries == 0 {
		c.snapshotEntries = 10000
	}
	if c.catchUpEntries == 0 {
		c.catchUpEntries = c.snapshotEntries / 2
	}
	if c.maxValueBytes == 0 {
		c.maxValueBytes = 1 << 20
	}
	if c.requestTimeout == 0 {
		c.requestTimeout = 5 * time.Second
	}
	if c.listenPeer == "" {
		c.listenPeer = c.cluster[c.id]
	}
	if c.logger == nil {
		c.logger = log.New(log.Writer(), fmt.Sprintf("node %d: ", c.id), log.LstdFlags|log.Lmsgprefix)
	}
	return c
}

func (c serverConfig) validate() error {
	switch {
	case c.id == 0:
		return errors.New("--id must be a positive integer")
	case c.cluster[c.id] == "":
		return fmt.Errorf("--cluster does not list this node (--id %d)", c.id)
	case c.dataDir == "":
		return errors.New("--data-dir is required")
	case c.electionTicks <= c.heartbeatTicks:
		return errors.New("the election timeout must be longer than the heartbeat interval")
	case c.maxValueBytes < 0:
		return errors.New("--max-value-bytes must not be negative")
	}
	return nil
}

// clusterID derives the ID a data directory records from the cluster
// token.
func clusterID(token string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(token))
	return h.Sum64()
}

// server is one raft node with its storage, state machine, transport and
// HTTP API.
type server struct {
	cfg     serverConfig
	logf    func(format string, args ...any)
	storage *diskStorage
	node    raft.Node
	batcher *batcher
	kv      *kvStore
	members *members
	trans   *transport
	metrics *metrics
	http    *http.Server
	httpLn  net.Listener

	ids      *requestIDs
	writes   waiters[applyResult]
	reads    waiters[uint64]
	applied  *appliedIndex
	leader   atomic.Uint64
	removed  atomic.Bool
	failed   atomic.Pointer[error] // set when the node loop stopped on an error
	fatal    chan struct{}         // closed when failed is set
	loopStop chan struct{}
	loopDone chan struct{}

	// The append goroutine of asynchronous writes (loop_async.go).
	appendQ  *appendQueue
	restoreC chan restoreReq   // to the node loop
	sendBuf  []*raftpb.Message // the node loop's, reused by each Ready

	// bgCtx is the context of the goroutines beside the node loop: the
	// append goroutine and the sweeper of timed-out writes (sweepWrites).
	// Shutdown cancels it once the loop has stopped, then waits for them
	// on bgWG.
	bgCtx  context.Context
	bgStop context.CancelFunc
	bgWG   sync.WaitGroup

	// persistedTerm and persistedVote are the term and vote last persisted:
	// by the node loop, which owns them, or with asynchronous writes last
	// committed to pebble by the append goroutine, which owns them then
	// (its sync may still be under way; see appendsNeedSync).
	persistedTerm, persistedVote uint64

	// Owned by the node loop.
	confState   *raftpb.ConfState
	snapshotNow bool // take a snapshot after this Ready
	// snapIndex is the index of the last snapshot taken, restored or
	// attempted; the next is due at nextSnapshotAt(snapIndex, …).
	// snapPhase staggers this node's snapshot points from its peers'.
	snapIndex    uint64
	snapPhase    uint64
	snapInFlight bool // persistSnapshot is running; it reports on snapDone
	isLeader     bool // as of the last Ready's SoftState

	snapDone chan snapJob   // capacity 1: one snapshot in flight
	snapWG   sync.WaitGroup // the snapshot goroutine; waited for before storage closes

	closeOnce sync.Once
}

// startServer opens the data directory, starts raft, the peer transport
// and the HTTP API. A data directory of another node or cluster, or a
// corrupt one, is refused with an error.
func startServer(cfg serverConfig) (_ *server, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &server{
		cfg:      cfg,
		logf:     cfg.logger.Printf,
		kv:       newKVStore(),
		members:  newMembers(cfg.cluster),
		metrics:  newMetrics(true),
		ids:      newRequestIDs(),
		fatal:    make(chan struct{}),
		loopStop: make(chan struct{}),
		loopDone: make(chan struct{}),
		appendQ:  newAppendQueue(),
		restoreC: make(chan restoreReq),
		snapDone: make(chan snapJob, 1),
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for _, f := range slices.Backward(cleanup) {
				f()
			}
		}
	}()
	s.storage, err = openStorage(cfg.dataDir, clusterID(cfg.clusterToken), cfg.id, storageOptions{noSync: cfg.noSync, failWrite: cfg.failWrite, fs: cfg.fs})
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { _ = s.storage.close() })

	hs, cs, _ := s.storage.InitialState()
	snap, _ := s.storage.Snapshot()
	last, _ := s.storage.LastIndex()
	fresh := last == 0 && hs.Term == 0 && snap.Metadata.Index == 0
	s.confState = cs
	s.snapIndex = snap.Metadata.Index
	s.snapPhase = snapshotPhase(cfg.id, cfg.snapshotEntries)
	s.persistedTerm, s.persistedVote = hs.Term, hs.Vote
	if snap.Metadata.Index > 0 {
		ms, err := s.kv.restore(snap.Data)
		if err != nil {
			return nil, fmt.Errorf("data directory %s: %w: %v", cfg.dataDir, ErrDataDirCorrupt, err)
		}
		s.members.replace(ms)
		s.removed.Store(ms.removed[cfg.id])
	}
	s.applied = newAppliedIndex(snap.Metadata.Index)

	rcfg := &raft.Config{
		ID:                        cfg.id,
		ElectionTick:              cfg.electionTicks,
		HeartbeatTick:             cfg.heartbeatTicks,
		Storage:                   s.storage,
		Applied:                   snap.Metadata.Index,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		StepDownOnRemoval:         true,
		Logger:                    cfg.raftLogger,
		AsyncStorageWrites:        cfg.asyncStorageWrites,
	}
	switch {
	case fresh && !cfg.join:
		peers := make([]raft.Peer, 0, len(cfg.cluster))
		for _, id := range slices.Sorted(maps.Keys(cfg.cluster)) {
			peers = append(peers, raft.Peer{ID: id, Context: []byte(cfg.cluster[id])})
		}
		s.node, err = raft.StartNode(rcfg, peers)
	default:
		s.node, err = raft.RestartNode(rcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("starting raft: %w", err)
	}
	cleanup = append(cleanup, s.node.Stop)
	s.batcher = newBatcher(s.node, cfg.requestTimeout, func() bool { return s.leader.Load() != 0 })
	cleanup = append(cleanup, s.batcher.close)

	s.trans, err = newTransport(s, cfg)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, s.trans.stop)
	for id, addr := range s.members.snapshot() {
		if id != cfg.id {
			s.trans.addPeer(id, addr)
		}
	}

	s.httpLn = cfg.clientLn
	if s.httpLn == nil {
		if s.httpLn, err = net.Listen("tcp", cfg.listenClient); err != nil {
			return nil, fmt.Errorf("client listener: %w", err)
		}
	}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	if cfg.asyncStorageWrites {
		s.bgWG.Go(s.runAppends)
	}
	s.bgWG.Go(s.sweepWrites)
	go s.run()
	go func() {
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("http server: %v", err)
		}
	}()
	return s, nil
}

// sweepWrites expires the writes whose request timeout has passed, until
// the server shuts down.
func (s *server) sweepWrites() {
	t := time.NewTicker(sweepInterval(s.cfg.requestTimeout))
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			s.writes.expire(now)
		case <-s.bgCtx.Done():
			return
		}
	}
}

// clientAddr returns the HTTP address the server listens on.
func (s *server) clientAddr() string { return s.httpLn.Addr().String() }

// peerAddr returns the gRPC address the server listens on.
func (s *server) peerAddr() string { return s.trans.ln.Addr().String() }

// close shuts the server down cleanly: the HTTP API stops taking requests,
// the transport and raft stop, and pebble is flushed and closed.
func (s *server) close() error {
	return s.shutdown(true)
}

// crash stops everything without flushing pebble, as a killed process
// would: only what was synced survives. For tests.
func (s *server) crash() error {
	return s.shutdown(false)
}

func (s *server) shutdown(clean bool) error {
	var err error
	s.closeOnce.Do(func() {
		if clean {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.http.Shutdown(ctx)
			cancel()
		} else {
			_ = s.http.Close()
		}
		s.trans.stop()
		close(s.loopStop)
		<-s.loopDone
		s.bgStop()
		s.bgWG.Wait()
		s.snapWG.Wait() // it writes to storage
		s.node.Stop()
		s.batcher.close()
		if clean {
			err = s.storage.close()
		} else {
			err = s.storage.crash()
		}
	})
	return err
}
