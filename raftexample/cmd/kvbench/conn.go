package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// request is one HTTP request as kvbench sends it: a method, a path (with
// its query, already escaped) below the endpoint's base URL, and a body.
type request struct {
	method      string
	path        string
	contentType string // no Content-Type header when empty
	body        []byte
}

// reply is a server's answer: its status and its whole body. The body is
// the client's buffer, valid until its next exchange.
type reply struct {
	status int
	body   []byte
}

// exchanger sends one request to endpoint (a base URL such as
// http://127.0.0.1:2379) and returns the reply. The exchange ends by the
// context's deadline, if any, and when the context is cancelled.
type exchanger interface {
	exchange(ctx context.Context, endpoint string, req *request) (reply, error)
}

// connClient is the HTTP/1.1 client of one benchmark client: one keep-alive
// connection, used by one goroutine, one request at a time. It writes each
// request with one write and parses the reply itself, in buffers it keeps:
// the load generator shares the machine's CPUs with the servers it
// measures, so what it spends per request is taken from them. (net/http's
// Transport runs a reader and a writer goroutine per connection and hands
// every request and response between them; Request.Write and
// ReadResponse on one goroutine, the client before this one, still
// allocated headers, readers and a timer per request: 27-31 µs of CPU
// per request against 22-23 µs here, most of it now the kernel's.) It
// speaks only as much HTTP/1.1 as the servers' replies need:
// Content-Length or chunked bodies, bodiless statuses, bodies ended by
// closing the connection, and Connection: close.
type connClient struct {
	timeout time.Duration // bounds the dial, and each exchange

	endpoint string // the endpoint conn is connected to
	addr     string // its host:port
	base     string // its path, prepended to each request's

	conn net.Conn // nil: dial on the next exchange
	br   *bufio.Reader
	wbuf []byte // the request being written
	body []byte // the last reply's body

	// watched is the context whose cancellation interrupts conn; stopWatch
	// ends the watch. A watch's callback runs on its own goroutine and may
	// still be running when the watch is ended: watchGen, bumped at every
	// end under watchMu, tells it that it is stale.
	watched   context.Context
	stopWatch func() bool
	watchMu   sync.Mutex
	watchGen  uint64
}

// maxReplyBody bounds a reply body kvbench reads.
const maxReplyBody = 64 << 20

func newConnClient(timeout time.Duration) *connClient {
	return &connClient{timeout: timeout}
}

var errReplyTooLarge = errors.New("kvbench: reply body over 64 MiB")

// protoError is a reply that is not well-formed HTTP/1.1.
type protoError struct{ msg string }

func (e *protoError) Error() string { return "kvbench: malformed HTTP reply: " + e.msg }

func malformed(format string, args ...any) error {
	return &protoError{msg: fmt.Sprintf(format, args...)}
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked read or write.
var aLongTimeAgo = time.Unix(1, 0)

func (c *connClient) exchange(ctx context.Context, endpoint string, req *request) (reply, error) {
	if err := ctx.Err(); err != nil {
		return reply{}, err
	}
	if endpoint != c.endpoint {
		c.close()
		u, err := url.Parse(endpoint)
		if err != nil {
			return reply{}, err
		}
		if u.Scheme != "http" {
			return reply{}, fmt.Errorf("kvbench: unsupported URL scheme %q", u.Scheme)
		}
		c.endpoint, c.addr, c.base = endpoint, u.Host, u.EscapedPath()
		if u.Port() == "" {
			c.addr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	deadline := time.Now().Add(c.timeout)
	ctxDeadline := false // the context's deadline is the one that binds
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxDeadline = d, true
	}
	if c.conn == nil {
		if err := c.dial(ctx, deadline); err != nil {
			return reply{}, err
		}
	}
	if ctx != c.watched {
		// A cancelled context wakes the exchange under way at once
		// rather than at its deadline. The watch is per connection, not
		// per exchange, which would cost a registration and removal in
		// the context each time.
		c.unwatch()
		conn, gen := c.conn, c.watchGen
		c.watched = ctx
		c.stopWatch = context.AfterFunc(ctx, func() {
			c.watchMu.Lock()
			defer c.watchMu.Unlock()
			if c.watchGen == gen { // not a watch ended while it fired
				_ = conn.SetDeadline(aLongTimeAgo)
			}
		})
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		c.close()
		return reply{}, err
	}
	// Cancelled before the deadline was set, the watch's deadline may
	// have been overwritten: this check then catches it.
	if err := ctx.Err(); err != nil {
		c.close()
		return reply{}, err
	}
	rep, keep, err := c.roundTrip(req)
	if err != nil {
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case ctxDeadline && errors.As(err, &ne) && ne.Timeout():
			// The connection's deadline fired before the context's
			// timer did: the same deadline.
			err = context.DeadlineExceeded
		}
		c.close()
		return reply{}, err
	}
	if !keep {
		c.close()
	}
	return rep, nil
}

func (c *connClient) dial(ctx context.Context, deadline time.Time) error {
	d := net.Dialer{Deadline: deadline, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		c.br.Reset(conn)
	}
	return nil
}

// roundTrip writes req and reads its reply; keep reports whether the
// connection can carry the next request.
func (c *connClient) roundTrip(req *request) (rep reply, keep bool, err error) {
	w := append(c.wbuf[:0], req.method...)
	w = append(w, ' ')
	w = append(w, c.base...)
	w = append(w, req.path...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, c.addr...)
	w = append(w, "\r\nUser-Agent: kvbench\r\n"...)
	if req.contentType != "" {
		w = append(w, "Content-Type: "...)
		w = append(w, req.contentType...)
		w = append(w, "\r\n"...)
	}
	if req.body != nil || req.method == "PUT" || req.method == "POST" {
		w = append(w, "Content-Length: "...)
		w = strconv.AppendInt(w, int64(len(req.body)), 10)
		w = append(w, "\r\n"...)
	}
	w = append(w, "\r\n"...)
	w = append(w, req.body...)
	c.wbuf = w
	if _, err := c.conn.Write(w); err != nil {
		return reply{}, false, err
	}
	return c.readReply(req.method == "HEAD")
}

// readReply reads one reply from the connection.
func (c *connClient) readReply(head bool) (rep reply, keep bool, err error) {
	line, err := c.line()
	if err != nil {
		return reply{}, false, err
	}
	// HTTP/1.x SP 3DIGIT [SP reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return reply{}, false, malformed("status line %q", clip(line))
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return reply{}, false, malformed("status line %q", clip(line))
	}
	if status < 200 {
		return reply{}, false, malformed("unexpected informational status %d", status)
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless asked otherwise; kvbench does not ask
	contentLength, chunked := int64(-1), false
	for {
		h, err := c.line()
		if err != nil {
			return reply{}, false, err
		}
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return reply{}, false, malformed("header line %q", clip(h))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (contentLength >= 0 && n != contentLength) {
				return reply{}, false, malformed("Content-Length %q", clip(value))
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return reply{}, false, malformed("Transfer-Encoding %q", clip(value))
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			for _, tok := range bytes.Split(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(tok), []byte("close")) {
					keep = false
				}
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case head || status == 204 || status == 304:
	case chunked:
		if err := c.readChunked(); err != nil {
			return reply{}, false, err
		}
	case contentLength >= 0:
		if contentLength > maxReplyBody {
			return reply{}, false, errReplyTooLarge
		}
		c.body = grow(c.body, int(contentLength))
		if _, err := io.ReadFull(c.br, c.body); err != nil {
			return reply{}, false, unexpectedEOF(err)
		}
	default:
		// The body runs to the end of the connection.
		keep = false
		if err := c.readToEOF(); err != nil {
			return reply{}, false, err
		}
	}
	return reply{status: status, body: c.body}, keep, nil
}

// readChunked reads a chunked body into c.body, and its trailer.
func (c *connClient) readChunked() error {
	for {
		line, err := c.line()
		if err != nil {
			return unexpectedEOF(err)
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 31)
		if err != nil {
			return malformed("chunk size %q", clip(line))
		}
		if n == 0 {
			break
		}
		if len(c.body)+int(n) > maxReplyBody {
			return errReplyTooLarge
		}
		start := len(c.body)
		c.body = grow(c.body, start+int(n))
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return unexpectedEOF(err)
		}
		crlf, err := c.line()
		if err != nil {
			return unexpectedEOF(err)
		}
		if len(crlf) != 0 {
			return malformed("chunk not followed by CRLF")
		}
	}
	for { // the trailer
		line, err := c.line()
		if err != nil {
			return unexpectedEOF(err)
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// readToEOF reads the rest of the connection into c.body.
func (c *connClient) readToEOF() error {
	for {
		if len(c.body) == cap(c.body) {
			if len(c.body) >= maxReplyBody {
				return errReplyTooLarge
			}
			c.body = append(c.body, 0)[:len(c.body)]
		}
		n, err := c.br.Read(c.body[len(c.body):cap(c.body)])
		c.body = c.body[:len(c.body)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line returns the next line without its CRLF (or LF). It is valid until
// the next read.
func (c *connClient) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, malformed("line longer than %d bytes", c.br.Size())
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// grow returns b resized to n bytes, keeping its contents, and reusing
// its array when it is large enough.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

// unexpectedEOF turns an end of the connection inside a reply into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func (c *connClient) unwatch() {
	if c.stopWatch == nil {
		return
	}
	c.stopWatch()
	c.watchMu.Lock()
	c.watchGen++
	c.watchMu.Unlock()
	c.watched, c.stopWatch = nil, nil
}

func (c *connClient) close() {
	c.unwatch()
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}
