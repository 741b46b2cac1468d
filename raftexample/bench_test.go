package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkClusterPut measures PUTs of 256-byte values through the HTTP API
// of an in-process 3-node cluster with fsync on, spread over the nodes,
// with 64 concurrent clients. Run with -cpuprofile to see where a write's
// time goes.
func BenchmarkClusterPut(b *testing.B) {
	c := newTestCluster(b, 3, func(cfg *serverConfig) {
		cfg.tick = 100 * time.Millisecond
		cfg.electionTicks, cfg.heartbeatTicks = 10, 1
		cfg.logger = nil
	})
	c.waitLeader()
	value := bytes.Repeat([]byte("v"), 256)
	var n atomic.Uint64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 10 * time.Second}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := i%3 + 1
			req, _ := http.NewRequest(http.MethodPut, c.url(id, fmt.Sprintf("/kv/k%d", i%10000)), bytes.NewReader(value))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("PUT: %d", resp.StatusCode)
				return
			}
		}
	})
}
