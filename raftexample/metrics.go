package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one server's Prometheus metrics. Each server has its own
// registry, so that several nodes can run in one process (the one-command
// cluster, the tests) without their metrics colliding.
type metrics struct {
	reg *prometheus.Registry

	proposals *prometheus.CounterVec // by result
	// proposalsApplied, linearizableReads and serializableReads are the
	// children of the vectors that every request bumps, looked up once.
	proposalsApplied  prometheus.Counter
	linearizableReads prometheus.Counter
	serializableReads prometheus.Counter
	reads             *prometheus.CounterVec // by kind and result
	committed         prometheus.Counter
	applyLatency      prometheus.Histogram
	writeLatency      prometheus.Histogram
	readyLatency      prometheus.Histogram
	diskWriteLatency  prometheus.Histogram
	leaderChanges     prometheus.Counter
	snapshots         *prometheus.CounterVec // by event
	peerRejected      prometheus.Counter
	peerSendDropped   prometheus.Counter
	forwardedWrites   prometheus.Counter
	term              prometheus.Gauge
	commitIndex       prometheus.Gauge
	appliedIndex      prometheus.Gauge
	isLeader          prometheus.Gauge

	// The stages of a client write on the node that took it (see
	// observeWrite): waiting in the batcher, proposed until
	// applied here, applied until the requester resumed.
	stageBatch, stageReplicate, stageRespond prometheus.Observer
}

func newMetrics(withProcess bool) *metrics {
	reg := prometheus.NewRegistry()
	if withProcess {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	const ns = "raftexample"
	m := &metrics{reg: reg}
	m.proposals = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "proposals_total",
		Help: "Client writes and membership changes proposed by this node, by result (applied, dropped, timeout).",
	}, []string{"result"}))
	m.reads = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "reads_total",
		Help: "Client reads served by this node, by kind (linearizable, serializable) and result (ok, timeout).",
	}, []string{"kind", "result"}))
	m.committed = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "committed_entries_total",
		Help: "Committed log entries applied to the state machine.",
	}))
	m.applyLatency = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "apply_duration_seconds",
		Help:    "Time to apply the committed entries of one Ready.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
	}))
	m.writeLatency = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "write_duration_seconds",
		Help:    "Time from proposing a client write to seeing it applied.",
		Buckets: prometheus.ExponentialBuckets(1e-4, 2, 16),
	}))
	stages := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "write_stage_duration_seconds",
		Help: "Where a client write's time goes on the node that took it, by stage: batch (queued until its batch is proposed), " +
			"replicate (proposed until applied on this node: forwarding to the leader, replication and commit), " +
			"respond (applied until the waiting request resumed).",
		Buckets: prometheus.ExponentialBuckets(1e-5, 2, 16),
	}, []string{"stage"}))
	m.stageBatch = stages.WithLabelValues("batch")
	m.stageReplicate = stages.WithLabelValues("replicate")
	m.stageRespond = stages.WithLabelValues("respond")
	m.readyLatency = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "ready_duration_seconds",
		Help:    "Time the node loop spent on one Ready: persisting, sending and applying it, or with asynchronous storage writes handing it off.",
		Buckets: prometheus.ExponentialBuckets(1e-5, 2, 16),
	}))
	m.diskWriteLatency = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "disk_write_duration_seconds",
		Help:    "Time to write (and, when raft asks, sync) the entries and hard state of one Ready, or of one group of asynchronous appends (from its commit to pebble until its sync ends, which includes waiting for the sync before it).",
		Buckets: prometheus.ExponentialBuckets(1e-5, 2, 16),
	}))
	m.leaderChanges = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "leader_changes_total",
		Help: "Times this node saw the leader change.",
	}))
	m.snapshots = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "snapshots_total",
		Help: "Snapshots by event: created (taken locally), applied (received from the leader), sent, send_failed.",
	}, []string{"event"}))
	m.peerRejected = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "peer_messages_rejected_total",
		Help: "Peer messages refused because the sender is not a member or the message is malformed.",
	}))
	m.forwardedWrites = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "forwarded_writes_batched_total",
		Help: "Writes that followers forwarded and this node, as leader, added to its own batches.",
	}))
	m.peerSendDropped = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "peer_messages_dropped_total",
		Help: "Outgoing peer messages dropped because the peer's queue was full or the peer unknown.",
	}))
	m.term = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "term", Help: "Current raft term."}))
	m.commitIndex = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "commit_index", Help: "Raft commit index."}))
	m.appliedIndex = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "applied_index", Help: "Last applied log index."}))
	m.isLeader = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "is_leader", Help: "1 if this node is the leader."}))
	for _, r := range []string{"applied", "dropped", "timeout"} {
		m.proposals.WithLabelValues(r)
	}
	m.proposalsApplied = m.proposals.WithLabelValues("applied")
	m.linearizableReads = m.reads.WithLabelValues("linearizable", "ok")
	m.serializableReads = m.reads.WithLabelValues("serializable", "ok")
	for _, e := range []string{"created", "applied", "sent", "send_failed"} {
		m.snapshots.WithLabelValues(e)
	}
	return m
}

// observeWrite records a client write that was submitted at submitted,
// proposed at proposed and applied at applied, and whose requester
// resumed at done (monoNow readings): its whole duration and the three
// stages that make it up.
func (m *metrics) observeWrite(submitted, proposed, applied, done int64) {
	m.writeLatency.Observe(monoSeconds(done - submitted))
	m.stageBatch.Observe(monoSeconds(proposed - submitted))
	m.stageReplicate.Observe(monoSeconds(applied - proposed))
	m.stageRespond.Observe(monoSeconds(done - applied))
}

// monoBase anchors monoNow.
var monoBase = time.Now()

// monoNow returns the time since the process started, in nanoseconds, from
// the monotonic clock: a plain integer that goroutines can hand each other
// atomically, unaffected by changes of the wall clock.
func monoNow() int64 { return monoAt(time.Now()) }

// monoAt is monoNow for a time already read.
func monoAt(t time.Time) int64 { return int64(t.Sub(monoBase)) }

func monoSeconds(d int64) float64 { return float64(d) / 1e9 }

// register registers c with reg and returns it.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	reg.MustRegister(c)
	return c
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
