// Operator mode with nats.go: an operator, accounts and users made at run time
// with the nats-io jwt/v2 and nkeys libraries, a MEMORY resolver preloaded
// with the account JWTs, and clients connecting with user JWT + seed (the
// library signs the nonce), bearer JWTs, revoked and expiring users, and an
// account whose payload limit the client learns from the INFO after PING.
package interop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

type opEnv struct {
	op, sys, acc, lim nkeys.KeyPair
	accClaims         *jwt.AccountClaims
	server            *server
}

func pub(kp nkeys.KeyPair) string { p, _ := kp.PublicKey(); return p }

func mustKP(t *testing.T, f func() (nkeys.KeyPair, error)) nkeys.KeyPair {
	kp, err := f()
	must(t, err)
	return kp
}

// newUser returns a user JWT (issued by acc) and the user's seed.
func newUser(t *testing.T, acc nkeys.KeyPair, edit func(*jwt.UserClaims)) (string, []byte, string) {
	u := mustKP(t, nkeys.CreateUser)
	uc := jwt.NewUserClaims(pub(u))
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(acc)
	must(t, err)
	seed, _ := u.Seed()
	return tok, seed, pub(u)
}

func startOperatorServer(t *testing.T, revoke func(*jwt.AccountClaims)) *opEnv {
	e := &opEnv{op: mustKP(t, nkeys.CreateOperator), sys: mustKP(t, nkeys.CreateAccount),
		acc: mustKP(t, nkeys.CreateAccount), lim: mustKP(t, nkeys.CreateAccount)}
	oc := jwt.NewOperatorClaims(pub(e.op))
	oc.SystemAccount = pub(e.sys)
	otok, err := oc.Encode(e.op)
	must(t, err)
	enc := func(ac *jwt.AccountClaims) string {
		tok, err := ac.Encode(e.op)
		must(t, err)
		return tok
	}
	e.accClaims = jwt.NewAccountClaims(pub(e.acc))
	if revoke != nil {
		revoke(e.accClaims)
	}
	lc := jwt.NewAccountClaims(pub(e.lim))
	lc.Limits.Payload = 100
	lc.DefaultPermissions.Pub.Deny.Add("secret.>")
	dir := t.TempDir()
	opFile := filepath.Join(dir, "op.jwt")
	must(t, os.WriteFile(opFile, []byte(otok), 0o644))
	conf := fmt.Sprintf("operator: %q\nresolver: MEMORY\nresolver_preload: {\n %s: %s\n %s: %s\n %s: %s\n}\n",
		opFile, pub(e.sys), enc(jwt.NewAccountClaims(pub(e.sys))), pub(e.acc), enc(e.accClaims), pub(e.lim), enc(lc))
	cf := filepath.Join(dir, "op.conf")
	must(t, os.WriteFile(cf, []byte(conf), 0o644))
	e.server = startServerWith(t, []string{"-c", cf}, nil)
	return e
}

func TestJWTUserConnect(t *testing.T) {
	e := startOperatorServer(t, nil)
	tok, seed, _ := newUser(t, e.acc, nil)
	nc := connect(t, e.server, nats.UserJWTAndSeed(tok, string(seed)))
	sub, err := nc.SubscribeSync("jwt.hello")
	must(t, err)
	must(t, nc.Publish("jwt.hello", []byte("hi")))
	if m := next(t, sub); string(m.Data) != "hi" {
		t.Fatalf("got %q", m.Data)
	}
	// A user of another account does not share the subject space.
	ltok, lseed, _ := newUser(t, e.lim, nil)
	nl := connect(t, e.server, nats.UserJWTAndSeed(ltok, string(lseed)))
	must(t, nl.Publish("jwt.hello", []byte("other")))
	must(t, nl.Flush())
	expectNone(t, sub)
	// The account's payload limit arrives in the INFO after the first PONG.
	if !waitFor(2*time.Second, func() bool { return nl.MaxPayload() == 100 }) {
		t.Fatalf("max payload %d, want 100", nl.MaxPayload())
	}
	if err := nl.Publish("x", make([]byte, 101)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("publish over the account limit: %v", err)
	}
	// The account's default permissions apply to users without their own.
	perr := make(chan error, 1)
	np := connect(t, e.server, nats.UserJWTAndSeed(ltok, string(lseed)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { perr <- err }))
	must(t, np.Publish("secret.x", nil))
	must(t, np.Flush())
	select {
	case err := <-perr:
		if !strings.Contains(err.Error(), `Permissions Violation for Publish to "secret.x"`) {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no permissions violation from the account's default permissions")
	}
}

func TestJWTBearerAndRejections(t *testing.T) {
	e := startOperatorServer(t, nil)
	btok, _, _ := newUser(t, e.acc, func(uc *jwt.UserClaims) { uc.BearerToken = true })
	// A bearer token needs no seed: the library sends no signature.
	nc := connect(t, e.server, nats.UserJWT(func() (string, error) { return btok, nil },
		func([]byte) ([]byte, error) { return nil, nil }))
	must(t, nc.Flush())
	// Expired at connect time.
	etok, eseed, _ := newUser(t, e.acc, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	if _, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(etok, string(eseed))); err == nil ||
		!strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("expired user: %v", err)
	}
	// Signed by a key the account does not list.
	stranger := mustKP(t, nkeys.CreateAccount)
	stok, sseed, _ := newUser(t, stranger, func(uc *jwt.UserClaims) { uc.IssuerAccount = pub(e.acc) })
	if _, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(stok, string(sseed))); err == nil {
		t.Fatal("user signed by an unknown key connected")
	}
}

func TestJWTRevokedUser(t *testing.T) {
	u := mustKP(t, nkeys.CreateUser)
	e := startOperatorServer(t, func(ac *jwt.AccountClaims) { ac.RevokeAt(pub(u), time.Now().Add(time.Hour)) })
	uc := jwt.NewUserClaims(pub(u))
	tok, err := uc.Encode(e.acc)
	must(t, err)
	seed, _ := u.Seed()
	if _, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(tok, string(seed))); err == nil {
		t.Fatal("revoked user connected")
	}
}

func TestJWTExpiresWhileConnected(t *testing.T) {
	e := startOperatorServer(t, nil)
	tok, seed, _ := newUser(t, e.acc, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(2 * time.Second).Unix() })
	errs := make(chan error, 4)
	nc, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(tok, string(seed)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	must(t, err)
	defer nc.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrAuthExpired) {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no expiry error")
	}
	if !waitFor(2*time.Second, nc.IsClosed) {
		t.Fatal("connection still open after expiry")
	}
}

func TestJWTAccountExpiresWhileConnected(t *testing.T) {
	op := mustKP(t, nkeys.CreateOperator)
	acc := mustKP(t, nkeys.CreateAccount)
	otok, err := jwt.NewOperatorClaims(pub(op)).Encode(op)
	must(t, err)
	ac := jwt.NewAccountClaims(pub(acc))
	ac.Expires = time.Now().Add(2 * time.Second).Unix()
	atok, err := ac.Encode(op)
	must(t, err)
	dir := t.TempDir()
	cf := filepath.Join(dir, "op.conf")
	must(t, os.WriteFile(cf, []byte(fmt.Sprintf("operator: %s\nresolver: MEM\nresolver_preload: { %s: %s }\n",
		otok, pub(acc), atok)), 0o644))
	s := startServerWith(t, []string{"-c", cf}, nil)
	tok, seed, _ := newUser(t, acc, nil)
	errs := make(chan error, 4)
	nc, err := nats.Connect(s.url, nats.UserJWTAndSeed(tok, string(seed)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	must(t, err)
	defer nc.Close()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "account authentication expired") {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no account expiry error")
	}
	if !waitFor(2*time.Second, nc.IsClosed) {
		t.Fatal("connection still open after the account expired")
	}
}

func TestJWTStrictSigningKeys(t *testing.T) {
	op := mustKP(t, nkeys.CreateOperator)
	osk := mustKP(t, nkeys.CreateOperator)
	oc := jwt.NewOperatorClaims(pub(op))
	oc.StrictSigningKeyUsage = true
	oc.SigningKeys.Add(pub(osk))
	otok, err := oc.Encode(op)
	must(t, err)
	good := mustKP(t, nkeys.CreateAccount) // signed by the signing key: trusted
	bad := mustKP(t, nkeys.CreateAccount)  // signed by the operator key itself: not trusted when strict
	// Strict: accounts must sign users with their signing keys too.
	ask := mustKP(t, nkeys.CreateAccount)
	gc := jwt.NewAccountClaims(pub(good))
	gc.SigningKeys.Add(pub(ask))
	gtok, err := gc.Encode(osk)
	must(t, err)
	btok, err := jwt.NewAccountClaims(pub(bad)).Encode(op)
	must(t, err)
	dir := t.TempDir()
	cf := filepath.Join(dir, "op.conf")
	must(t, os.WriteFile(cf, []byte(fmt.Sprintf("operator: %s\nresolver: MEMORY\nresolver_preload: {\n %s: %s\n %s: %s\n}\n",
		otok, pub(good), gtok, pub(bad), btok)), 0o644))
	s := startServerWith(t, []string{"-c", cf}, nil)
	tok, seed, _ := newUser(t, ask, func(uc *jwt.UserClaims) { uc.IssuerAccount = pub(good) })
	nc := connect(t, s, nats.UserJWTAndSeed(tok, string(seed)))
	must(t, nc.Flush())
	dtok, dseed, _ := newUser(t, good, nil)
	if _, err := nats.Connect(s.url, nats.UserJWTAndSeed(dtok, string(dseed))); err == nil {
		t.Fatal("user signed by the account's own key connected under strict signing keys")
	}
	btokU, bseed, _ := newUser(t, bad, nil)
	if _, err := nats.Connect(s.url, nats.UserJWTAndSeed(btokU, string(bseed))); err == nil {
		t.Fatal("account signed by a strict operator's own key was trusted")
	}
}

func TestJWTConnectTimes(t *testing.T) {
	e := startOperatorServer(t, nil)
	now := time.Now().UTC()
	clock := func(d time.Duration) string { return now.Add(d).Format("15:04:05") }
	if now.Add(-time.Hour).Day() != now.Day() || now.Add(time.Hour).Day() != now.Day() {
		t.Skip("too close to midnight UTC for fixed time ranges")
	}
	// outside the only range: refused
	otok, oseed, _ := newUser(t, e.acc, func(uc *jwt.UserClaims) {
		uc.Locale = "UTC"
		uc.Times = []jwt.TimeRange{{Start: clock(10 * time.Minute), End: clock(20 * time.Minute)}}
	})
	if _, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(otok, string(oseed))); err == nil {
		t.Fatal("connected outside the allowed times")
	}
	// inside a range that ends in 3 s: connected, then expired
	itok, iseed, _ := newUser(t, e.acc, func(uc *jwt.UserClaims) {
		uc.Locale = "UTC"
		uc.Times = []jwt.TimeRange{{Start: clock(-time.Minute), End: clock(3 * time.Second)}}
	})
	errs := make(chan error, 4)
	nc, err := nats.Connect(e.server.url, nats.UserJWTAndSeed(itok, string(iseed)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	must(t, err)
	defer nc.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrAuthExpired) {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("no expiry at the end of the time range")
	}
}
