package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// syncGateFS is the operating system's file system, except that while the
// gate is shut, syncing a pebble WAL file (*.log) blocks until it opens.
type syncGateFS struct {
	vfs.FS
	mu      sync.Mutex
	gate    chan struct{} // non-nil while shut; closed to open it
	entered chan struct{} // receives once for every sync that blocks
}

func newSyncGateFS() *syncGateFS {
	return &syncGateFS{FS: vfs.Default, entered: make(chan struct{}, 64)}
}

func (g *syncGateFS) shut() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *syncGateFS) open() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

// pass blocks while the gate is shut.
func (g *syncGateFS) pass() {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate == nil {
		return
	}
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-gate
}

func (g *syncGateFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &gatedFile{File: f, g: g}, nil
}

func (g *syncGateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.Create(name, c)
	return g.wrap(name, f, err)
}

func (g *syncGateFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.ReuseForWrite(oldname, newname, c)
	return g.wrap(newname, f, err)
}

type gatedFile struct {
	vfs.File
	g *syncGateFS
}

func (f *gatedFile) Sync() error     { f.g.pass(); return f.File.Sync() }
func (f *gatedFile) SyncData() error { f.g.pass(); return f.File.SyncData() }
func (f *gatedFile) SyncTo(n int64) (bool, error) {
	f.g.pass()
	return f.File.SyncTo(n)
}

// TestWriteWaitsForItsSync holds the WAL sync of a one-node cluster's
// write and checks that the write is not answered meanwhile: the node's
// own acknowledgement of the entry, which commits it, must wait for the
// sync. With asynchronous writes the append goroutine commits the next
// group to pebble while a sync is under way, and the sync goroutine must
// deliver its responses only once that group's sync is done.
func TestWriteWaitsForItsSync(t *testing.T) {
	forEachStorageMode(t, func(t *testing.T, mode storageMode) {
		if p := syncGateProblem(t, mode); p != "" {
			t.Fatal(p)
		}
	})
}

// syncGateProblem runs TestWriteWaitsForItsSync's scenario and describes
// what went wrong, or returns "".
func syncGateProblem(t *testing.T, mode storageMode) string {
	g := newSyncGateFS()
	c := newTestCluster(t, 1, mode.with(func(cfg *serverConfig) { cfg.fs = g }))
	c.waitLeader()
	c.put(1, "k", "before")

	g.shut()
	defer g.open()
	type result struct {
		code int
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, b, err := c.do(http.MethodPut, c.url(1, "/kv/k"), []byte("after"))
		done <- result{code, b, err}
	}()
	<-g.entered // the write's sync is held
	// The write cannot be answered before the gate opens; a broken node
	// answers within milliseconds, and this waits far longer.
	select {
	case r := <-done:
		return "PUT answered while the sync of its entry was held: " + http.StatusText(r.code) + " " + string(r.body)
	case <-time.After(300 * time.Millisecond):
	}
	g.open()
	if r := <-done; r.err != nil || r.code != http.StatusOK {
		t.Fatalf("PUT after the sync: %d %s %v", r.code, r.body, r.err)
	}
	if got, ok := c.get(1, "k", false); !ok || got != "after" {
		t.Fatalf("GET k = %q (found %v), want %q", got, ok, "after")
	}
	return ""
}
