package main

import (
	"bufio"
	"context"
	"errors"
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

func doGet(t *testing.T, c *connClient, endpoint, path string) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := c.exchange(ctx, endpoint, &request{method: http.MethodGet, path: path})
	return rep.status, string(rep.body), err
}

// Requests reuse one connection, whatever the framing of the replies:
// Content-Length, chunked (with a trailer), or none.
func TestConnClientReusesConnection(t *testing.T) {
	srv, conns := connServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush() // forces chunked encoding
			w.Write([]byte("part2"))
			w.Header().Set("X-Sum", "11")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100_000)))
		default:
			w.Write([]byte("plain"))
		}
	})
	c := newConnClient(time.Second)
	defer c.close()
	want := map[string]string{"/plain": "plain", "/chunked": "part1-part2", "/empty": "", "/big": strings.Repeat("x", 100_000)}
	for range 3 {
		for _, path := range []string{"/plain", "/chunked", "/empty", "/big"} {
			_, body, err := doGet(t, c, srv.URL, path)
			if err != nil {
				t.Fatal(err)
			}
			if body != want[path] {
				t.Fatalf("%s: body of %d bytes, want %d", path, len(body), len(want[path]))
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// rawServer answers each connection with reply after reading one request
// head, and hands the request it read to got.
func rawServer(t *testing.T, reply string, got chan<- string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				if got != nil {
					got <- req.Method + " " + req.RequestURI + " host=" + req.Host + " type=" +
						req.Header.Get("Content-Type") + " len=" + req.Header.Get("Content-Length") + " body=" + string(body)
				}
				io.WriteString(conn, reply)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// The request on the wire: the endpoint's base path before the request's,
// the Host, Content-Type and Content-Length headers, and the body.
func TestConnClientWritesRequest(t *testing.T) {
	got := make(chan string, 1)
	ep := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", got)
	c := newConnClient(time.Second)
	defer c.close()
	rep, err := c.exchange(context.Background(), ep+"/base", &request{method: "PUT", path: "/kv/a%2Fb", contentType: "text/plain", body: []byte("value")})
	if err != nil || rep.status != 200 || string(rep.body) != "ok" {
		t.Fatalf("exchange: %d %q %v", rep.status, rep.body, err)
	}
	want := "PUT /base/kv/a%2Fb host=" + strings.TrimPrefix(ep, "http://") + " type=text/plain len=5 body=value"
	if g := <-got; g != want {
		t.Fatalf("server read %q, want %q", g, want)
	}
}

// A reply that closes the connection, one whose body runs to the end of
// the connection, or a request that times out, makes the next request
// dial again, and it succeeds.
func TestConnClientRedials(t *testing.T) {
	release := make(chan struct{})
	var released atomic.Bool
	defer func() {
		if !released.Swap(true) {
			close(release) // lets the server close on a failure
		}
	}()
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
	if _, _, err := doGet(t, c, srv.URL, "/close"); err != nil {
		t.Fatal(err)
	}
	if _, body, err := doGet(t, c, srv.URL, "/"); err != nil || body != "ok" {
		t.Fatalf("after Connection: close: %q, %v", body, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.exchange(ctx, srv.URL, &request{method: "GET", path: "/slow"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a request past its deadline: err %v, want DeadlineExceeded", err)
	}
	released.Store(true)
	close(release)
	if _, body, err := doGet(t, c, srv.URL, "/"); err != nil || body != "ok" {
		t.Fatalf("after a timeout: %q, %v", body, err)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (first, after close, after timeout)", n)
	}

	// HTTP/1.0 without a length: the body is what comes before the close.
	ep := rawServer(t, "HTTP/1.0 200 OK\r\n\r\nto the end", nil)
	d := newConnClient(time.Second)
	defer d.close()
	for range 2 {
		if _, body, err := doGet(t, d, ep, "/"); err != nil || body != "to the end" {
			t.Fatalf("body to the end of the connection: %q, %v", body, err)
		}
	}
}

// The client's own timeout bounds an exchange, and cancelling the context
// ends one under way at once.
func TestConnClientTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv, _ := connServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c := newConnClient(50 * time.Millisecond)
	defer c.close()
	_, err := c.exchange(context.Background(), srv.URL, &request{method: "GET", path: "/"})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || classify(err) != "timeout" {
		t.Fatalf("past the client's timeout: err %v, want a timeout", err)
	}

	d := newConnClient(time.Hour)
	defer d.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.exchange(ctx, srv.URL, &request{method: "GET", path: "/"})
		done <- err
	}()
	// The exchange is blocked in its read (the handler never answers)
	// or not yet started; either way cancelling must end it.
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled exchange: err %v, want context.Canceled", err)
	}
}

// Replies that are not HTTP, or too large, are errors, and the connection
// is not reused after them; a server that is down gives an error.
func TestConnClientErrors(t *testing.T) {
	for name, reply := range map[string]string{
		"not HTTP":         "SSH-2.0-OpenSSH\r\n",
		"bad status":       "HTTP/1.1 2x0 OK\r\n\r\n",
		"bad header":       "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"bad length":       "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
		"two lengths":      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"bad chunk":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"unknown encoding": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"informational":    "HTTP/1.1 100 Continue\r\n\r\n",
	} {
		ep := rawServer(t, reply, nil)
		c := newConnClient(time.Second)
		_, _, err := doGet(t, c, ep, "/")
		var pe *protoError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want a protoError", name, err)
		}
		if c.conn != nil {
			t.Errorf("%s: the connection was kept", name)
		}
		c.close()
	}
	for name, reply := range map[string]string{
		"truncated body":  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"truncated chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nshort",
	} {
		ep := rawServer(t, reply, nil)
		c := newConnClient(time.Second)
		if _, _, err := doGet(t, c, ep, "/"); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err %v, want io.ErrUnexpectedEOF", name, err)
		}
		c.close()
	}
	ep := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", nil)
	c := newConnClient(time.Second)
	if _, _, err := doGet(t, c, ep, "/"); !errors.Is(err, errReplyTooLarge) {
		t.Errorf("a 100 MB reply: err %v, want errReplyTooLarge", err)
	}
	c.close()

	if _, err := c.exchange(context.Background(), "https://127.0.0.1:1", &request{method: "GET", path: "/"}); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("an https endpoint: err %v, want an unsupported scheme", err)
	}

	srv, _ := connServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	url := srv.URL
	srv.Close()
	d := newConnClient(time.Second)
	if _, _, err := doGet(t, d, url, "/"); err == nil || classify(err) != "connection refused" {
		t.Fatalf("a request to a closed server: err %v, want connection refused", err)
	}
}
