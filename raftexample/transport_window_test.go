package main

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestPeerServerWindows checks that a node's peer server announces the
// fixed flow-control windows of peerWindowBytes: the stream window in its
// SETTINGS and the connection window in a WINDOW_UPDATE of the
// connection. Without them gRPC falls back to 64 KiB windows grown by
// bandwidth-delay estimation, and its pings (see BENCHMARKS.md, "Eighth
// run").
func TestPeerServerWindows(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.waitLeader()
	conn, err := net.Dial("tcp", c.servers[1].peerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var streamWindow, connWindow uint32
	const defaultWindow = 65535
	for streamWindow == 0 || connWindow == 0 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's frames (stream window %d, connection window %d so far): %v", streamWindow, connWindow, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			v, ok := f.Value(http2.SettingInitialWindowSize)
			if !ok {
				v = defaultWindow
			}
			streamWindow = v
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				connWindow = defaultWindow + f.Increment
			}
		}
	}
	if streamWindow != peerWindowBytes || connWindow != peerWindowBytes {
		t.Fatalf("peer server windows: stream %d, connection %d; want %d for both", streamWindow, connWindow, peerWindowBytes)
	}
}
