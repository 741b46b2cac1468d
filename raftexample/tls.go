package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// tlsFiles names the PEM files for mutual TLS between peers: this node's
// certificate and key, and the CA that signs every peer's certificate.
// Each side checks the other's certificate against the CA, so a process
// without a certificate from that CA cannot talk to the cluster at all;
// the member check in the transport then limits it to the cluster's IDs.
type tlsFiles struct {
	cert, key, ca string
}

// newTLSFiles returns nil when no flag is set, and an error when only
// some are.
func newTLSFiles(cert, key, ca string) (*tlsFiles, error) {
	if cert == "" && key == "" && ca == "" {
		return nil, nil
	}
	if cert == "" || key == "" || ca == "" {
		return nil, errors.New("mutual TLS needs all of --peer-cert, --peer-key and --peer-ca")
	}
	return &tlsFiles{cert: cert, key: key, ca: ca}, nil
}

// credentials loads the files and returns the server and client sides.
func (f *tlsFiles) credentials() (server, client credentials.TransportCredentials, err error) {
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, nil, fmt.Errorf("loading --peer-cert/--peer-key: %w", err)
	}
	caPEM, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, nil, fmt.Errorf("reading --peer-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("--peer-ca %s holds no PEM certificate", f.ca)
	}
	server = credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	client = credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	})
	return server, client, nil
}
