// TLS with nats.go: INFO-first upgrade with a client certificate (tlsverify),
// large payloads and request/reply through TLS records, and the refusals a
// client sees without a certificate or without TLS.
package interop

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func tlsFixture(t *testing.T, name string) string {
	src := os.Getenv("INTEROP_SRCDIR")
	if src == "" {
		t.Skip("INTEROP_SRCDIR not set (run through run.sh)")
	}
	return filepath.Join(src, "fixtures", "tls", name)
}

func startTLSServer(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, bin: serverBin(), dir: t.TempDir(), args: []string{"--tlsverify",
		"--tlscert", tlsFixture(t, "server-cert.pem"), "--tlskey", tlsFixture(t, "server-key.pem"),
		"--tlscacert", tlsFixture(t, "ca.pem")}}
	s.log = filepath.Join(s.dir, "server.log")
	if err := s.spawn(-1); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	t.Cleanup(s.stop)
	return s
}

func clientTLS(t *testing.T, withCert bool) *tls.Config {
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(tlsFixture(t, "ca.pem"))
	must(t, err)
	pool.AppendCertsFromPEM(pem)
	c := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if withCert {
		cert, err := tls.LoadX509KeyPair(tlsFixture(t, "client-cert.pem"), tlsFixture(t, "client-key.pem"))
		must(t, err)
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

func TestTLS(t *testing.T) {
	s := startTLSServer(t)
	url := "tls://127.0.0.1:" + s.url[len("nats://127.0.0.1:"):]
	nc, err := nats.Connect(url, nats.Secure(clientTLS(t, true)))
	must(t, err)
	defer nc.Close()
	pc, err := nats.Connect(url, nats.Secure(clientTLS(t, true)))
	must(t, err)
	defer pc.Close()
	if !nc.TLSRequired() {
		t.Fatal("INFO did not say tls_required")
	}
	sub, err := nc.SubscribeSync("big")
	must(t, err)
	must(t, nc.Flush())
	// Payloads larger than a TLS record (16 KiB) and than an output chunk.
	for k, size := range []int{maxPayload, 100000, 16385, 1} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte('a' + (i*7+k)%26)
		}
		must(t, pc.Publish("big", buf))
		m, err := sub.NextMsg(5 * time.Second)
		must(t, err)
		if !bytes.Equal(m.Data, buf) {
			t.Fatalf("size %d: got %d bytes, content differs", size, len(m.Data))
		}
	}
	_, err = nc.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < 200; i++ {
		r, err := pc.Request("svc", []byte("x"), 2*time.Second)
		must(t, err)
		if string(r.Data) != "re:x" {
			t.Fatalf("reply %q", r.Data)
		}
	}

	// No client certificate: the server ends the handshake.
	if c, err := nats.Connect(url, nats.Secure(clientTLS(t, false)), nats.Timeout(2*time.Second)); err == nil {
		// TLS 1.3 may report the refusal only on the first read.
		err = c.Flush()
		c.Close()
		if err == nil {
			t.Fatal("connected without a client certificate")
		}
	}
	// No TLS at all: nats.go itself refuses a server that requires TLS.
	if c, err := nats.Connect(s.url, nats.Timeout(2*time.Second)); err == nil {
		c.Close()
		t.Fatal("plain connection to a TLS-required server succeeded")
	}
}
