package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// connServer counts the connections it accepts.
func connServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func doGet(t *testing.T, c *connClient, url string) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), err
}

// Requests reuse one connection, whatever the framing of the replies:
// Content-Length, chunked, or empty.
func TestConnClientReusesConnection(t *testing.T) {
	srv, conns := connServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush() // forces chunked encoding
			w.Write([]byte("part2"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Write([]byte("plain"))
		}
	})
	c := newConnClient(time.Second)
	defer c.close()
	want := map[string]string{"/plain": "plain", "/chunked": "part1-part2", "/empty": ""}
	for range 3 {
		for _, path := range []string{"/plain", "/chunked", "/empty"} {
			_, body, err := doGet(t, c, srv.URL+path)
			if err != nil {
				t.Fatal(err)
			}
			if body != want[path] {
				t.Fatalf("%s: body %q, want %q", path, body, want[path])
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// A reply that closes the connection, or a request that times out, makes
// the next request dial again, and it succeeds.
func TestConnClientRedials(t *testing.T) {
	release := make(chan struct{})
	srv, conns := connServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/slow":
			<-release // until the client gave up
		}
		w.Write([]byte("ok"))
	})
	c := newConnClient(time.Second)
	defer c.close()
	if _, _, err := doGet(t, c, srv.URL+"/close"); err != nil {
		t.Fatal(err)
	}
	if _, body, err := doGet(t, c, srv.URL+"/"); err != nil || body != "ok" {
		t.Fatalf("after Connection: close: %q, %v", body, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("a request past its deadline succeeded")
	}
	close(release)
	if _, body, err := doGet(t, c, srv.URL+"/"); err != nil || body != "ok" {
		t.Fatalf("after a timeout: %q, %v", body, err)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (first, after close, after timeout)", n)
	}
}

// A body left open makes the next request fail rather than read the old
// reply as its own; a server that is down gives an error.
func TestConnClientErrors(t *testing.T) {
	srv, _ := connServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	c := newConnClient(time.Second)
	defer c.close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Fatalf("second request with the body open: %v", err)
	}
	srv.Close()
	d := newConnClient(time.Second)
	if _, _, err := doGet(t, d, srv.URL); err == nil {
		t.Fatal("a request to a closed server succeeded")
	}
}
