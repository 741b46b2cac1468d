package etcd37

import (
	"runtime"
	"testing"
	"time"
)

// meter measures wall time and heap allocations over the timed part of a
// benchmark and reports them per unit of work (an entry, a message, an
// election). It reads runtime.MemStats itself, rather than relying on
// -benchmem, so that every workload reports the same per-unit metrics
// whatever b.N counts. pause and resume exclude setup done mid-benchmark.
type meter struct {
	b       *testing.B
	start   time.Time
	ms      runtime.MemStats
	elapsed time.Duration
	bytes   uint64
	allocs  uint64
}

func startMeter(b *testing.B) *meter {
	m := &meter{b: b}
	runtime.GC()
	b.ResetTimer()
	m.resume()
	return m
}

func (m *meter) resume() {
	m.b.StartTimer()
	runtime.ReadMemStats(&m.ms)
	m.start = time.Now()
}

func (m *meter) pause() {
	m.elapsed += time.Since(m.start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.b.StopTimer()
	m.bytes += ms.TotalAlloc - m.ms.TotalAlloc
	m.allocs += ms.Mallocs - m.ms.Mallocs
}

// report stops the meter and reports n units of work named unit (for
// example "entry", plural "entries"): plural/s, ns/unit, B/unit and
// allocs/unit.
func (m *meter) report(n int, unit, plural string) {
	m.pause()
	if n == 0 {
		m.b.Fatalf("no %s measured", unit)
	}
	f := float64(n)
	m.b.ReportMetric(f/m.elapsed.Seconds(), plural+"/s")
	m.b.ReportMetric(float64(m.elapsed.Nanoseconds())/f, "ns/"+unit)
	m.b.ReportMetric(float64(m.bytes)/f, "B/"+unit)
	m.b.ReportMetric(float64(m.allocs)/f, "allocs/"+unit)
}
