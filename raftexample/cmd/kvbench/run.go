package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// kind is a request kind.
type kind int

const (
	kindPut kind = iota
	kindGet
	numKinds
)

func (k kind) String() string {
	switch k {
	case kindPut:
		return "put"
	case kindGet:
		return "get"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// liveCounters are bumped by every client as requests finish and read by
// the progress printer once a second.
type liveCounters struct {
	ops    [numKinds]atomic.Uint64
	errors atomic.Uint64
}

// errorClass counts the failures of one class and keeps the first message.
type errorClass struct {
	Class string `json:"class"`
	Count uint64 `json:"count"`
	First string `json:"first"`
}

// clientResult is what one client measured. Only its own goroutine writes
// it, until the run is over.
type clientResult struct {
	hist    [numKinds]histogram
	errors  [numKinds]uint64
	classes map[string]*errorClass
	misses  uint64    // GETs of keys the server did not have
	last    time.Time // when its last measured request finished
}

func (r *clientResult) addError(err error) {
	class := classify(err)
	if r.classes == nil {
		r.classes = make(map[string]*errorClass)
	}
	ec := r.classes[class]
	if ec == nil {
		ec = &errorClass{Class: class, First: err.Error()}
		r.classes[class] = ec
	}
	ec.Count++
}

// classify names the kind of failure, so the report can group them.
func classify(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return "HTTP " + strconv.Itoa(se.code)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	}
	return "other"
}

// connErrorPause is how long a client waits after a failure to reach its
// endpoint at all, so that a dead server costs a trickle of errors rather
// than a busy loop that starves the servers still up.
const connErrorPause = 20 * time.Millisecond

// run loads the servers as cfg says, printing progress to w once a second,
// and returns the figures. It returns early, with what was measured so
// far, when ctx is cancelled.
func run(ctx context.Context, cfg config, w io.Writer) *summary {
	tgt, err := newTarget(cfg.target, cfg.serializable)
	if err != nil {
		// parseFlags validated the name.
		panic("kvbench: " + err.Error())
	}

	fmt.Fprintf(w, "kvbench: target %s, %d endpoints, %d clients, read ratio %.2f, %d-byte values, %d keys, %v warmup + %v\n",
		cfg.target, len(cfg.endpoints), cfg.clients, cfg.readRatio, cfg.valueSize, cfg.keys, cfg.warmup, cfg.duration)

	var live liveCounters
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	end := measureFrom.Add(cfg.duration)
	results := make([]clientResult, cfg.clients)
	var wg sync.WaitGroup
	for i := range cfg.clients {
		wg.Go(func() {
			c := &client{
				cfg:      cfg,
				tgt:      tgt,
				hc:       newConnClient(cfg.timeout),
				endpoint: cfg.endpoints[i%len(cfg.endpoints)],
				rng:      rand.New(rand.NewPCG(cfg.seed, uint64(i))),
				value:    make([]byte, cfg.valueSize),
				res:      &results[i],
				live:     &live,
			}
			c.loop(ctx, measureFrom, end)
			c.hc.close()
		})
	}
	// The servers' CPU clock is read when the measured time starts and
	// once the last client is done.
	type cpuSample struct {
		d   time.Duration
		err error
	}
	cpuStart := make(chan cpuSample, 1)
	if len(cfg.cpuPids) > 0 {
		go func() {
			t := time.NewTimer(time.Until(measureFrom))
			defer t.Stop()
			select {
			case <-t.C:
				d, err := procCPU(cfg.cpuPids)
				cpuStart <- cpuSample{d, err}
			case <-ctx.Done():
				cpuStart <- cpuSample{err: ctx.Err()}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	printProgress(ctx, w, &live, start, measureFrom, done)

	s := summarize(cfg, results, measureFrom)
	if len(cfg.cpuPids) > 0 {
		c0 := <-cpuStart
		c1, err := procCPU(cfg.cpuPids)
		switch {
		case c0.err != nil:
			s.CPUError = c0.err.Error()
		case err != nil:
			s.CPUError = err.Error()
		default:
			s.ServerCPU = (c1 - c0.d).Seconds()
		}
	}
	return s
}

// printProgress prints one line a second with the requests completed in
// that second, until done is closed.
func printProgress(ctx context.Context, w io.Writer, live *liveCounters, start, measureFrom time.Time, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prev [numKinds]uint64
	var prevErr uint64
	prevT := start
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			<-done
			return
		case now := <-tick.C:
			dt := now.Sub(prevT).Seconds()
			phase := ""
			if now.Before(measureFrom) {
				phase = " (warmup)"
			}
			line := fmt.Sprintf("[%4.0fs]%s", now.Sub(start).Seconds(), phase)
			for k := range numKinds {
				n := live.ops[k].Load()
				line += fmt.Sprintf("  %s %8.0f/s", k, float64(n-prev[k])/dt)
				prev[k] = n
			}
			e := live.errors.Load()
			line += fmt.Sprintf("  errors %d", e-prevErr)
			prevErr = e
			prevT = now
			fmt.Fprintln(w, line)
		}
	}
}

// client is one load-generating goroutine's state.
type client struct {
	cfg      config
	tgt      target
	hc       *connClient
	endpoint string
	rng      *rand.Rand
	value    []byte
	res      *clientResult
	live     *liveCounters
}

// loop sends requests one at a time until end (or ctx is cancelled),
// measuring those that start at or after measureFrom.
func (c *client) loop(ctx context.Context, measureFrom, end time.Time) {
	keyBuf := make([]byte, 0, 16)
	for ctx.Err() == nil {
		k := kindPut
		if c.rng.Float64() < c.cfg.readRatio {
			k = kindGet
		}
		keyBuf = strconv.AppendInt(append(keyBuf[:0], 'k'), int64(c.rng.IntN(c.cfg.keys)), 10)
		key := string(keyBuf)
		if k == kindPut {
			fillValue(c.rng, c.value)
		}

		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		// The client bounds each exchange by -timeout itself: a context
		// with a timer per request would cost as much as the exchange's
		// own work.
		var err error
		found := true
		if k == kindPut {
			err = c.tgt.put(ctx, c.hc, c.endpoint, key, c.value)
		} else {
			found, err = c.tgt.get(ctx, c.hc, c.endpoint, key)
		}
		t1 := time.Now()
		if err != nil && ctx.Err() != nil {
			return // interrupted; not the server's failure
		}
		if err != nil {
			c.live.errors.Add(1)
		} else {
			c.live.ops[k].Add(1)
		}
		if t0.Before(measureFrom) {
			continue
		}
		c.res.last = t1
		if err != nil {
			c.res.errors[k]++
			c.res.addError(err)
			var se *statusError
			if !errors.As(err, &se) {
				sleepCtx(ctx, connErrorPause)
			}
			continue
		}
		c.res.hist[k].record(t1.Sub(t0))
		if !found {
			c.res.misses++
		}
	}
}

// fillValue overwrites v with random lowercase letters, so that every PUT
// carries fresh bytes that neither side can compress away.
func fillValue(rng *rand.Rand, v []byte) {
	for i := 0; i < len(v); i += 8 {
		x := rng.Uint64()
		for j := i; j < min(i+8, len(v)); j++ {
			v[j] = 'a' + byte(x%26)
			x >>= 8
		}
	}
}

// sleepCtx waits for d or until ctx is cancelled.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
