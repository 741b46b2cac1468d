package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/seed901663da/raft/raftpb"
)

// rawCodec sends bytes as they are, to put malformed messages on the wire.
type rawCodec struct{}

func (rawCodec) Name() string { return "raftexample" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return codec{}.Marshal(v)
}
func (rawCodec) Unmarshal(data []byte, v any) error { return codec{}.Unmarshal(data, v) }

// sendBatch opens a stream to addr, sends one batch (or raw bytes) and
// returns the status the server ends the stream with.
func sendBatch(t *testing.T, addr string, cred credentials.TransportCredentials, batch any) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(cred), grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, methodMessages)
	if err != nil {
		return err
	}
	if err := st.SendMsg(batch); err != nil {
		return st.RecvMsg(&empty{})
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	return st.RecvMsg(&empty{})
}

// TestTransportRejects checks that a node refuses messages from IDs outside
// the cluster, messages for another node and malformed bytes, with a gRPC
// error and without stepping them into raft.
func TestTransportRejects(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	c.waitLeader()
	s := c.servers[1]
	addr := s.peerAddr()
	cred := insecure.NewCredentials()
	before, _ := c.status(1)

	// A vote request from a stranger with a huge term would depose the
	// leader if it got through.
	vote := &raftpb.Message{Type: raftpb.MsgVote, From: 99, To: 1, Term: 1000, LogTerm: 1000, Index: 1000}
	if err := sendBatch(t, addr, cred, &msgBatch{msgs: []*raftpb.Message{vote}}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("message from non-member 99: %v, want PermissionDenied", err)
	}
	misaddressed := &raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 7, Term: 1000}
	if err := sendBatch(t, addr, cred, &msgBatch{msgs: []*raftpb.Message{misaddressed}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("message for node 7: %v, want InvalidArgument", err)
	}
	garbage := []byte{0x0a, 0x05, 0xff, 0xff}
	if err := sendBatch(t, addr, cred, &garbage); err == nil || status.Code(err) == codes.OK {
		t.Fatalf("malformed batch accepted")
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(cred), grpc.WithDefaultCallOptions(grpc.ForceCodec(codec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	snap := &raftpb.Message{Type: raftpb.MsgSnap, From: 99, To: 1, Term: 1000,
		Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: 500, Term: 1000}}}
	if err := conn.Invoke(context.Background(), methodSnapshot, snap, &empty{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("snapshot from non-member: %v, want PermissionDenied", err)
	}
	if err := conn.Invoke(context.Background(), methodSnapshot, vote, &empty{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("non-snapshot on the Snapshot method: %v, want InvalidArgument", err)
	}

	after, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	if after.Term != before.Term || after.State != "StateLeader" {
		t.Fatalf("rejected messages reached raft: term %d -> %d, state %s", before.Term, after.Term, after.State)
	}
	c.put(1, "still", "works")
}

// writeCerts writes a CA and a certificate for 127.0.0.1 signed by it into
// dir, and returns the file names.
func writeCerts(t *testing.T, dir, name string) *tlsFiles {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " peer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &tlsFiles{
		cert: filepath.Join(dir, name+".crt"),
		key:  filepath.Join(dir, name+".key"),
		ca:   filepath.Join(dir, name+"-ca.crt"),
	}
	for path, block := range map[string]*pem.Block{
		f.cert: {Type: "CERTIFICATE", Bytes: der},
		f.key:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
		f.ca:   {Type: "CERTIFICATE", Bytes: caDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestClusterMutualTLS runs a cluster with mutual TLS between peers and
// checks that it replicates, and that peers without a certificate from
// the cluster's CA cannot get a message in.
func TestClusterMutualTLS(t *testing.T) {
	dir := t.TempDir()
	files := writeCerts(t, dir, "cluster")
	c := newTestCluster(t, 3, func(cfg *serverConfig) { cfg.tls = files })
	c.waitLeader()
	c.put(1, "secret", "s")
	for id := uint64(1); id <= 3; id++ {
		if v, _ := c.get(id, "secret", false); v != "s" {
			t.Fatalf("node %d: %q", id, v)
		}
	}
	addr := c.servers[1].peerAddr()
	msg := &msgBatch{msgs: []*raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1000}}}
	if err := sendBatch(t, addr, insecure.NewCredentials(), msg); err == nil {
		t.Fatalf("a plaintext client got a message through")
	}
	other := writeCerts(t, dir, "other")
	_, clientCred, err := other.credentials()
	if err != nil {
		t.Fatal(err)
	}
	if err := sendBatch(t, addr, clientCred, msg); err == nil {
		t.Fatalf("a client with another CA's certificate got a message through")
	}
	// Bad flag combinations and files are refused at start.
	if _, err := newTLSFiles(files.cert, "", ""); err == nil {
		t.Fatalf("--peer-cert alone accepted")
	}
	bad := &tlsFiles{cert: files.cert, key: files.key, ca: files.cert + ".missing"}
	if _, _, err := bad.credentials(); err == nil {
		t.Fatalf("missing CA file accepted")
	}
}
