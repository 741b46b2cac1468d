package main

import (
	"net/http"

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
	// proposalsApplied and linearizableReads are the children of the
	// vectors that every request bumps, looked up once.
	proposalsApplied  prometheus.Counter
	linearizableReads prometheus.Counter
	reads             *prometheus.CounterVec // by kind and result
	committed         prometheus.Counter
	applyLatency      prometheus.Histogram
	writeLatency      prometheus.Histogram
	leaderChanges     prometheus.Counter
	snapshots         *prometheus.CounterVec // by event
	peerRejected      prometheus.Counter
	peerSendDropped   prometheus.Counter
	term              prometheus.Gauge
	commitIndex       prometheus.Gauge
	appliedIndex      prometheus.Gauge
	isLeader          prometheus.Gauge
}

func newMetrics(withProcess bool) *metrics {
	reg := prometheus.NewRegistry()
	if withProcess {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	const ns = "raftexample"
	m := &metrics{reg: reg}
	m.proposals = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "proposals_total",
		Help: "Client writes and membership changes proposed by this node, by result (applied, dropped, timeout).",
	}, []string{"result"})).(*prometheus.CounterVec)
	m.reads = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "reads_total",
		Help: "Client reads served by this node, by kind (linearizable, serializable) and result (ok, timeout).",
	}, []string{"kind", "result"})).(*prometheus.CounterVec)
	m.committed = f(prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "committed_entries_total",
		Help: "Committed log entries applied to the state machine.",
	})).(prometheus.Counter)
	m.applyLatency = f(prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "apply_duration_seconds",
		Help:    "Time to apply the committed entries of one Ready.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
	})).(prometheus.Histogram)
	m.writeLatency = f(prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "write_duration_seconds",
		Help:    "Time from proposing a client write to seeing it applied.",
		Buckets: prometheus.ExponentialBuckets(1e-4, 2, 16),
	})).(prometheus.Histogram)
	m.leaderChanges = f(prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "leader_changes_total",
		Help: "Times this node saw the leader change.",
	})).(prometheus.Counter)
	m.snapshots = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "snapshots_total",
		Help: "Snapshots by event: created (taken locally), applied (received from the leader), sent, send_failed.",
	}, []string{"event"})).(*prometheus.CounterVec)
	m.peerRejected = f(prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "peer_messages_rejected_total",
		Help: "Peer messages refused because the sender is not a member or the message is malformed.",
	})).(prometheus.Counter)
	m.peerSendDropped = f(prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "peer_messages_dropped_total",
		Help: "Outgoing peer messages dropped because the peer's queue was full or the peer unknown.",
	})).(prometheus.Counter)
	m.term = f(prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "term", Help: "Current raft term."})).(prometheus.Gauge)
	m.commitIndex = f(prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "commit_index", Help: "Raft commit index."})).(prometheus.Gauge)
	m.appliedIndex = f(prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "applied_index", Help: "Last applied log index."})).(prometheus.Gauge)
	m.isLeader = f(prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "is_leader", Help: "1 if this node is the leader."})).(prometheus.Gauge)
	for _, r := range []string{"applied", "dropped", "timeout"} {
		m.proposals.WithLabelValues(r)
	}
	m.proposalsApplied = m.proposals.WithLabelValues("applied")
	m.linearizableReads = m.reads.WithLabelValues("linearizable", "ok")
	for _, e := range []string{"created", "applied", "sent", "send_failed"} {
		m.snapshots.WithLabelValues(e)
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
