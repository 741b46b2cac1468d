package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkClusterPut measures PUTs of 256-byte values through the HTTP API
// of an in-process 3-node cluster with fsync on, spread over the nodes,
// with 64 concurrent clients, and reports the p50 and p99 latency of a PUT.
// Run with -cpuprofile to see where a write's time goes.
//
// The default snapshot interval (10000 entries) is longer than a short run,
// so the "snap=1000" case takes snapshots often enough that their cost
// shows in the latencies.
func BenchmarkClusterPut(b *testing.B) {
	for _, bc := range []struct {
		name  string
		every uint64
	}{{"snap=default", 0}, {"snap=1000", 1000}} {
		b.Run(bc.name, func(b *testing.B) { benchClusterPut(b, bc.every) })
	}
}

func benchClusterPut(b *testing.B, snapshotEntries uint64) {
	c := newTestCluster(b, 3, func(cfg *serverConfig) {
		cfg.tick = 100 * time.Millisecond
		cfg.electionTicks, cfg.heartbeatTicks = 10, 1
		cfg.snapshotEntries = snapshotEntries
		cfg.logger = nil
	})
	c.waitLeader()
	value := bytes.Repeat([]byte("v"), 256)
	var n atomic.Uint64
	var mu sync.Mutex
	var lat []time.Duration
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 10 * time.Second}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() {
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			i := n.Add(1)
			id := i%3 + 1
			req, _ := http.NewRequest(http.MethodPut, c.url(id, fmt.Sprintf("/kv/k%d", i%10000)), bytes.NewReader(value))
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("PUT: %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.50), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
	}
}
