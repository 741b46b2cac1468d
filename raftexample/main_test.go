package main

import (
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCommandSIGTERM runs the command as a one-node cluster, writes, sends
// it SIGTERM and checks that it shuts down cleanly and that the write is
// there when the node is started again from its directory.
func TestCommandSIGTERM(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--id", "1", "--cluster", "1=" + freeAddr(t), "--data-dir", dir,
		"--listen-client", "127.0.0.1:0", "--tick", "10ms"}
	run := func(f func(c *testCluster)) {
		o, err := parseFlags(args)
		if err != nil {
			t.Fatal(err)
		}
		sig := make(chan os.Signal, 1)
		err = runCommand(o, sig, func(servers []*server) {
			c := &testCluster{t: t, client: http.DefaultClient,
				servers: map[uint64]*server{1: servers[0]},
				cfgs:    map[uint64]serverConfig{1: {listenClient: servers[0].clientAddr()}}}
			c.waitLeader()
			f(c)
			sig <- syscall.SIGTERM
		})
		if err != nil {
			t.Fatalf("runCommand: %v", err)
		}
	}
	run(func(c *testCluster) { c.put(1, "k", "survives") })
	run(func(c *testCluster) {
		if v, _ := c.get(1, "k", false); v != "survives" {
			t.Errorf("after SIGTERM and restart: k = %q", v)
		}
	})
}

func TestParseFlagsAndCluster(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--id", "x"}, "invalid value"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--nope"}, "not defined"},
	} {
		if _, err := parseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseFlags(%q): %v, want %q", tc.args, err, tc.wantErr)
		}
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"", "empty"},
		{"1", "id=host:port"},
		{"0=127.0.0.1:1", "positive"},
		{"a=127.0.0.1:1", "positive"},
		{"1=127.0.0.1", "host:port"},
		{"1=127.0.0.1:0", "port"},
		{"1=:80", "host"},
		{"1=127.0.0.1:1,1=127.0.0.1:2", "twice"},
	} {
		if _, err := parseCluster(tc.in); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseCluster(%q): %v, want %q", tc.in, err, tc.wantErr)
		}
	}
	got, err := parseCluster("1=http://127.0.0.1:1, 2=h:2")
	if err != nil || got[1] != "127.0.0.1:1" || got[2] != "h:2" {
		t.Fatalf("parseCluster: %v, %v", got, err)
	}
	o, _ := parseFlags([]string{"--join"})
	if err := runCommand(o, nil, nil); err == nil || !strings.Contains(err.Error(), "need --id") {
		t.Fatalf("--join without --id: %v", err)
	}
}
