// Authentication, permissions and TLS through nats.go against the server in
// NATS_SERVER_BIN. Same scenario list as nats-c/nats_c_auth.c and
// nats-js/lib/auth.mjs. Test names carry the parity row id (R093, R110, ...).
// Configs: fixtures/auth/*.conf and fixtures/interop/*.conf; TLS certificates
// are made per run by fixtures/interop/gen-tls.sh.
package interop

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func fixture(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("INTEROP_FIXTURES")
	if dir == "" {
		t.Fatal("INTEROP_FIXTURES is not set")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return p
}

func startConf(t *testing.T, conf string, env ...string) *server {
	t.Helper()
	return startServerWith(t, []string{"-c", fixture(t, conf)}, env)
}

// connectErr connects and returns the error; a connection that did come up
// is closed at cleanup.
func connectErr(s *server, opts ...nats.Option) error {
	opts = append([]nats.Option{nats.NoReconnect(),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, opts...)
	nc, err := nats.Connect(s.url, opts...)
	if err == nil {
		nc.Close()
	}
	return err
}

// expectAuthErr: the server must refuse the credentials the way nats.go
// reports "-ERR 'Authorization Violation'" during the initial connect: the
// server's text behind "nats: " (the ErrAuthorization sentinel is for
// reconnects).
func expectAuthErr(t *testing.T, s *server, what string, opts ...nats.Option) {
	t.Helper()
	err := connectErr(s, opts...)
	if err == nil || err.Error() != "nats: Authorization Violation" {
		t.Fatalf("%s: got %v, want nats: Authorization Violation", what, err)
	}
}

// roundtrip: nc receives its own message on subject.
func roundtrip(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	must(t, err)
	defer sub.Unsubscribe()
	must(t, nc.Flush())
	must(t, nc.Publish(subject, []byte("ping "+subject)))
	m := next(t, sub)
	if string(m.Data) != "ping "+subject {
		t.Fatalf("got %q", m.Data)
	}
}

// asyncErrs collects the async errors of a connection.
type asyncErrs struct {
	mu   sync.Mutex
	errs []string
}

func (a *asyncErrs) handler() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		a.mu.Lock()
		a.errs = append(a.errs, err.Error())
		a.mu.Unlock()
	})
}

// expect waits for the async error text want (exact).
func (a *asyncErrs) expect(t *testing.T, want string) {
	t.Helper()
	ok := waitFor(5*time.Second, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, e := range a.errs {
			if e == want {
				return true
			}
		}
		return false
	})
	if !ok {
		a.mu.Lock()
		defer a.mu.Unlock()
		t.Fatalf("no async error %q; got %q", want, a.errs)
	}
}

func (a *asyncErrs) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.errs)
}

func Test_R094_Token(t *testing.T) {
	s := startConf(t, "auth/token.conf")
	nc := connect(t, s, nats.Token("s3cr3t"))
	roundtrip(t, nc, "tok")
	expectAuthErr(t, s, "wrong token", nats.Token("s3cr3t-not"))
	expectAuthErr(t, s, "missing token")
	expectAuthErr(t, s, "user/password instead of token", nats.UserInfo("s3cr3t", "s3cr3t"))
	// Token in the URL.
	nu, err := nats.Connect(strings.Replace(s.url, "nats://", "nats://s3cr3t@", 1))
	must(t, err)
	roundtrip(t, nu, "tok.url")
	nu.Close()
}

func Test_R097_BcryptToken(t *testing.T) {
	s := startConf(t, "auth/bcrypt_token.conf")
	nc := connect(t, s, nats.Token("builder"))
	roundtrip(t, nc, "tok")
	expectAuthErr(t, s, "wrong token", nats.Token("builder2"))
	// The hash itself is not a valid token.
	expectAuthErr(t, s, "hash as token",
		nats.Token("$2a$04$chIhHqF4M40q9NGN8sHpEu97ZPMbFoOYIrZSw.QDGzuQPsg9.jDeC"))
}

func Test_R093_UserPassword(t *testing.T) {
	s := startConf(t, "auth/users.conf")
	nc := connect(t, s, nats.UserInfo("alice", "wonderland"))
	roundtrip(t, nc, "up")
	expectAuthErr(t, s, "wrong password", nats.UserInfo("alice", "wonderlan"))
	expectAuthErr(t, s, "unknown user", nats.UserInfo("carol", "wonderland"))
	expectAuthErr(t, s, "no credentials")
	nu, err := nats.Connect(strings.Replace(s.url, "nats://", "nats://alice:wonderland@", 1))
	must(t, err)
	roundtrip(t, nu, "up.url")
	nu.Close()
}

func Test_R097_BcryptPassword(t *testing.T) {
	s := startConf(t, "auth/users.conf")
	nc := connect(t, s, nats.UserInfo("bob", "builder"))
	roundtrip(t, nc, "bc")
	expectAuthErr(t, s, "wrong password", nats.UserInfo("bob", "Builder"))
	expectAuthErr(t, s, "hash as password",
		nats.UserInfo("bob", "$2a$04$chIhHqF4M40q9NGN8sHpEu97ZPMbFoOYIrZSw.QDGzuQPsg9.jDeC"))
}

func Test_R095_NkeySeed(t *testing.T) {
	s := startConf(t, "interop/R095-nkey.conf")
	opt, err := nats.NkeyOptionFromSeed(fixture(t, "interop/R095-user.nk"))
	must(t, err)
	nc := connect(t, s, opt)
	roundtrip(t, nc, "nk")
	other, err := nats.NkeyOptionFromSeed(fixture(t, "interop/R095-other.nk"))
	must(t, err)
	expectAuthErr(t, s, "unknown nkey", other)
	expectAuthErr(t, s, "no credentials")
	// The password user of the same config still works next to nkeys.
	np := connect(t, s, nats.UserInfo("alice", "wonderland"))
	roundtrip(t, np, "nk.pw")
}

func Test_R307_NoAuthUser(t *testing.T) {
	s := startConf(t, "auth/no_auth_user.conf")
	var ae asyncErrs
	guest := connect(t, s, ae.handler())
	roundtrip(t, guest, "foo") // guest may use foo only
	must(t, guest.Publish("bar", []byte("x")))
	ae.expect(t, `nats: Permissions Violation for Publish to "bar"`)
	admin := connect(t, s, nats.UserInfo("admin", "adminpw"))
	roundtrip(t, admin, "bar")
	// Wrong credentials are refused, not mapped to the default user.
	expectAuthErr(t, s, "wrong password", nats.UserInfo("admin", "nope"))
	expectAuthErr(t, s, "unknown user", nats.UserInfo("guest2", "g"))
}

func Test_R110_R112_PublishDenied(t *testing.T) {
	s := startConf(t, "auth/users.conf")
	alice := connect(t, s, nats.UserInfo("alice", "wonderland"))
	watch, err := alice.SubscribeSync(">")
	must(t, err)
	must(t, alice.Flush())

	var ae asyncErrs
	nc := connect(t, s, nats.UserInfo("limited", "pw"), ae.handler())
	must(t, nc.Publish("baz", []byte("not in allow")))   // R110
	must(t, nc.Publish("foo.secret", []byte("in deny"))) // R112
	must(t, nc.Publish("foo.ok", []byte("allowed")))
	must(t, nc.Flush())
	ae.expect(t, `nats: Permissions Violation for Publish to "baz"`)
	ae.expect(t, `nats: Permissions Violation for Publish to "foo.secret"`)
	// Only the allowed message got through, and the connection stays up.
	m := next(t, watch)
	if m.Subject != "foo.ok" {
		t.Fatalf("watcher got %s", m.Subject)
	}
	expectNone(t, watch)
	if !nc.IsConnected() {
		t.Fatalf("connection closed after a publish violation: %v", nc.LastError())
	}
	roundtrip(t, nc, "foo.again")
	if n := ae.count(); n != 2 {
		t.Fatalf("%d async errors, want 2", n)
	}
}

func Test_R111_R113_SubscribeDenied(t *testing.T) {
	s := startConf(t, "auth/users.conf")
	var ae asyncErrs
	nc := connect(t, s, nats.UserInfo("limited", "pw"), ae.handler())
	denied, err := nc.SubscribeSync("baz") // R111: not in allow
	must(t, err)
	hidden, err := nc.SubscribeSync("foo.hidden") // R113: in deny
	must(t, err)
	qdenied, err := nc.QueueSubscribeSync("q.a", "v2") // allow is "q.* v1"
	must(t, err)
	qok, err := nc.QueueSubscribeSync("q.a", "v1")
	must(t, err)
	must(t, nc.Flush())
	ae.expect(t, `nats: Permissions Violation for Subscription to "baz"`)
	ae.expect(t, `nats: Permissions Violation for Subscription to "foo.hidden"`)
	ae.expect(t, `nats: Permissions Violation for Subscription to "q.a" using queue "v2"`)

	alice := connect(t, s, nats.UserInfo("alice", "wonderland"))
	for _, subj := range []string{"baz", "foo.hidden", "q.a"} {
		must(t, alice.Publish(subj, []byte(subj)))
	}
	must(t, alice.Flush())
	if m := next(t, qok); m.Subject != "q.a" {
		t.Fatalf("queue v1 got %s", m.Subject)
	}
	expectNone(t, denied)
	expectNone(t, hidden)
	expectNone(t, qdenied)
	if !nc.IsConnected() {
		t.Fatalf("connection closed after a subscribe violation: %v", nc.LastError())
	}
	roundtrip(t, nc, "foo.still")
}

func Test_R116_AllowResponses(t *testing.T) {
	s := startConf(t, "auth/users.conf")
	var ae asyncErrs
	rsp := connect(t, s, nats.UserInfo("responder", "pw"), ae.handler())
	_, err := rsp.Subscribe("req", func(m *nats.Msg) {
		// Two answers: allow_responses (max 1) lets only the first through.
		rsp.Publish(m.Reply, []byte("answer"))
		rsp.Publish(m.Reply, []byte("second"))
	})
	must(t, err)
	must(t, rsp.Flush())

	cli := connect(t, s, nats.UserInfo("alice", "wonderland"))
	resp, err := cli.Request("req", []byte("q"), 5*time.Second)
	must(t, err)
	if string(resp.Data) != "answer" {
		t.Fatalf("response %q", resp.Data)
	}
	// An explicit reply subject, watched by a plain subscription.
	inbox := nats.NewInbox()
	watch, err := cli.SubscribeSync(inbox)
	must(t, err)
	must(t, cli.PublishRequest("req", inbox, []byte("q2")))
	must(t, cli.Flush())
	if m := next(t, watch); string(m.Data) != "answer" {
		t.Fatalf("got %q", m.Data)
	}
	expectNone(t, watch)
	ae.expect(t, `nats: Permissions Violation for Publish to "`+inbox+`"`)
	// Publishing anywhere else is not a response.
	must(t, rsp.Publish("elsewhere", []byte("x")))
	ae.expect(t, `nats: Permissions Violation for Publish to "elsewhere"`)
	if !rsp.IsConnected() {
		t.Fatal("responder disconnected")
	}
}

// ---- TLS (R169-R172) ----

// tlsDir makes the certificates once per test binary run.
var (
	tlsOnce sync.Once
	tlsPath string
	tlsErr  error
)

func tlsCerts(t *testing.T) string {
	t.Helper()
	if !serverHas("tls") {
		t.Skip("server under test lacks feature tls (INTEROP_SERVER_FEATURES)")
	}
	gen := fixture(t, "interop/gen-tls.sh")
	tlsOnce.Do(func() {
		tlsPath, tlsErr = os.MkdirTemp("", "interop-tls-")
		if tlsErr != nil {
			return
		}
		out, err := exec.Command("sh", gen, tlsPath).CombinedOutput()
		if err != nil {
			tlsErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if tlsErr != nil {
		t.Fatalf("gen-tls.sh: %v", tlsErr)
	}
	return tlsPath
}

// serverHas: INTEROP_SERVER_FEATURES is "all" for nats-server and cnatsd's
// parity_features list otherwise (set by tests/interop/meson.build). Unset:
// only nats-server is assumed to have everything.
func serverHas(feature string) bool {
	f, ok := os.LookupEnv("INTEROP_SERVER_FEATURES")
	if !ok {
		return filepath.Base(serverBin()) == "nats-server"
	}
	for _, x := range strings.Split(f, ",") {
		if x = strings.TrimSpace(x); x == "all" || x == feature {
			return true
		}
	}
	return false
}

func startTLS(t *testing.T, conf string) (*server, string) {
	t.Helper()
	d := tlsCerts(t)
	s := startConf(t, conf,
		"INTEROP_TLS_CERT="+filepath.Join(d, "server.pem"),
		"INTEROP_TLS_KEY="+filepath.Join(d, "server-key.pem"),
		"INTEROP_TLS_CA="+filepath.Join(d, "ca.pem"))
	return s, d
}

func Test_R169_R170_TLSRequired(t *testing.T) {
	s, d := startTLS(t, "interop/R169-tls.conf")
	nc := connect(t, s, nats.RootCAs(filepath.Join(d, "ca.pem")))
	if !nc.TLSRequired() {
		t.Fatal("INFO did not say tls_required")
	}
	st, err := nc.TLSConnectionState()
	must(t, err)
	if !st.HandshakeComplete || len(st.PeerCertificates) == 0 ||
		st.PeerCertificates[0].Subject.CommonName != "localhost" {
		t.Fatalf("TLS state: complete=%v peers=%d", st.HandshakeComplete, len(st.PeerCertificates))
	}
	roundtrip(t, nc, "tls")
	// A second client sees the first one's messages over TLS too.
	nc2 := connect(t, s, nats.RootCAs(filepath.Join(d, "ca.pem")))
	sub, err := nc2.SubscribeSync("tls.x")
	must(t, err)
	must(t, nc2.Flush())
	must(t, nc.Publish("tls.x", []byte("over tls")))
	if m := next(t, sub); string(m.Data) != "over tls" {
		t.Fatalf("got %q", m.Data)
	}
	// A plain-text CONNECT on a TLS-required port does not get a session:
	// the raw INFO asks for TLS, and the connection is dropped.
	rc := rawDial(t, s.port, 0)
	info := rc.line(t, 5*time.Second)
	if !strings.HasPrefix(info, "INFO ") || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("INFO %s", info)
	}
	rc.send(t, "CONNECT {\"verbose\":false}\r\nPING\r\n")
	if !rc.waitClosed(5 * time.Second) {
		t.Fatal("plain connection on a TLS port was not closed")
	}
}

func Test_R171_CAValidationFailure(t *testing.T) {
	s, d := startTLS(t, "interop/R169-tls.conf")
	// Trusting an unrelated CA, or only the system roots, must fail
	// certificate verification in the client.
	for _, opts := range [][]nats.Option{
		{nats.RootCAs(filepath.Join(d, "other-ca.pem"))},
		{nats.Secure()},
		{},
	} {
		err := connectErr(s, opts...)
		if err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			t.Fatalf("got %v, want an unknown authority error", err)
		}
	}
	// The right CA works on the same server.
	must(t, connectErr(s, nats.RootCAs(filepath.Join(d, "ca.pem"))))
}

func Test_R172_MutualTLS(t *testing.T) {
	s, d := startTLS(t, "interop/R172-mtls.conf")
	ca := nats.RootCAs(filepath.Join(d, "ca.pem"))
	nc := connect(t, s, ca, nats.ClientCert(filepath.Join(d, "client.pem"), filepath.Join(d, "client-key.pem")))
	roundtrip(t, nc, "mtls")
	// No client certificate, or one from an unrelated CA: refused. The TLS
	// alert text differs between TLS stacks, so only the refusal is compared.
	if err := connectErr(s, ca); err == nil {
		t.Fatal("connected without a client certificate")
	} else {
		t.Logf("no client cert: %v", err)
	}
	if err := connectErr(s, ca, nats.ClientCert(filepath.Join(d, "rogue.pem"), filepath.Join(d, "rogue-key.pem"))); err == nil {
		t.Fatal("connected with a client certificate from an unknown CA")
	} else {
		t.Logf("rogue client cert: %v", err)
	}
}
