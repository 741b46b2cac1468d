package benchkit

import (
	"runtime"
	"testing"
	"time"
)

// Meter measures wall time and heap allocations over the timed part of a
// benchmark and reports them per unit of work (an entry, a message, an
// election). It reads runtime.MemStats itself, rather than relying on
// -benchmem, so that every workload reports the same per-unit metrics
// whatever b.N counts. Pause and Resume exclude setup done mid-benchmark.
type Meter struct {
	b       *testing.B
	start   time.Time
	ms      runtime.MemStats
	elapsed time.Duration
	bytes   uint64
	allocs  uint64
}

// StartMeter collects garbage, resets b's timer and starts measuring.
func StartMeter(b *testing.B) *Meter {
	m := &Meter{b: b}
	runtime.GC()
	b.ResetTimer()
	m.Resume()
	return m
}

// Resume starts measuring again after Pause.
func (m *Meter) Resume() {
	m.b.StartTimer()
	runtime.ReadMemStats(&m.ms)
	m.start = time.Now()
}

// Pause stops measuring and adds what was measured since the last
// Resume.
func (m *Meter) Pause() {
	m.elapsed += time.Since(m.start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.b.StopTimer()
	m.bytes += ms.TotalAlloc - m.ms.TotalAlloc
	m.allocs += ms.Mallocs - m.ms.Mallocs
}

// Report stops the Meter and reports n units of work named unit (for
// example "entry", plural "entries"): plural/s, ns/unit, B/unit and
// allocs/unit.
func (m *Meter) Report(n int, unit, plural string) {
	m.Pause()
	if n == 0 {
		m.b.Fatalf("no %s measured", unit)
	}
	f := float64(n)
	m.b.ReportMetric(f/m.elapsed.Seconds(), plural+"/s")
	m.b.ReportMetric(float64(m.elapsed.Nanoseconds())/f, "ns/"+unit)
	m.b.ReportMetric(float64(m.bytes)/f, "B/"+unit)
	m.b.ReportMetric(float64(m.allocs)/f, "allocs/"+unit)
}

// Elapsed is the wall time measured so far, up to the last Pause or
// Report.
func (m *Meter) Elapsed() time.Duration { return m.elapsed }
