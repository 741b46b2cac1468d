package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// doer sends one HTTP request and returns its response, whose body the
// caller reads and closes before the next call.
type doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// connClient is the HTTP/1.1 client of one benchmark client: one keep-alive
// connection, used by one goroutine, one request at a time. A request is
// written and its response read on the caller's goroutine. net/http's
// Transport would run two more goroutines per connection (a reader and a
// writer) and hand every request and response between them; on a small
// machine, where the load generator competes with the servers for the
// CPUs, those handoffs cost as much as the servers' own work per request.
// Requests and responses are still encoded and parsed by net/http
// (Request.Write, ReadResponse).
type connClient struct {
	dialTimeout time.Duration
	conn        net.Conn // nil: dial on the next request
	br          *bufio.Reader
	bw          *bufio.Writer
	// open is the body of the last response until it is closed.
	open *trackedBody
}

func newConnClient(dialTimeout time.Duration) *connClient {
	return &connClient{dialTimeout: dialTimeout}
}

// Do sends req over the connection, dialing it first if needed. The
// request's context deadline bounds the whole exchange, including reading
// the body. Any error closes the connection.
func (c *connClient) Do(req *http.Request) (*http.Response, error) {
	if c.open != nil && !c.open.closed {
		return nil, errors.New("kvbench: previous response body not closed")
	}
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("kvbench: unsupported URL scheme %q", req.URL.Scheme)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if c.conn == nil {
		d := net.Dialer{Timeout: c.dialTimeout, KeepAlive: 30 * time.Second}
		conn, err := d.DialContext(req.Context(), "tcp", req.URL.Host)
		if err != nil {
			return nil, err
		}
		c.conn, c.br, c.bw = conn, bufio.NewReader(conn), bufio.NewWriter(conn)
	}
	deadline, _ := req.Context().Deadline() // zero: none
	if err := c.conn.SetDeadline(deadline); err != nil {
		c.close()
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		c.close()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		c.close()
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.close()
		return nil, err
	}
	c.open = &trackedBody{ReadCloser: resp.Body, c: c, reuse: !resp.Close}
	resp.Body = c.open
	return resp, nil
}

func (c *connClient) close() {
	if c.conn != nil {
		_ = c.conn.Close()
	}
	c.conn, c.br, c.bw, c.open = nil, nil, nil, nil
}

// trackedBody is a response body that keeps the connection open for the
// next request only if it was read to its end without error.
type trackedBody struct {
	io.ReadCloser
	c      *connClient
	reuse  bool // the server did not ask to close the connection
	eof    bool // a read reached the end (a failed read never does)
	closed bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *trackedBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.ReadCloser.Close()
	if err != nil || !b.eof || !b.reuse {
		b.c.close()
	}
	return err
}
