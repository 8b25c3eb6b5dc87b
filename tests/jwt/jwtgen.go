// jwtgen writes the operator-mode test fixtures (fixtures/jwt): nkey seeds
// and JWTs made with the reference jwt/v2 and nkeys libraries, so the JWTs
// cnatsd is tested with are exactly what nsc would produce.
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go run tests/jwt/jwtgen.go fixtures/jwt
//
// Keys are random, so every run changes every file; commit a whole run.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

var dir string

func write(name, text string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text+"\n"), 0o644); err != nil {
		panic(err)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func key(name string, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
	kp, err := create()
	if err != nil {
		panic(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	write(name+".nk", string(seed))
	write(name+".pub", pub)
	return kp, pub
}

// user writes NAME.nk, NAME.pub and NAME.jwt (issued by signer for account acc).
func user(name string, signer nkeys.KeyPair, acc string, edit func(*jwt.UserClaims)) {
	_, pub := key(name, nkeys.CreateUser)
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	sp, _ := signer.PublicKey()
	if sp != acc {
		uc.IssuerAccount = acc
	}
	if edit != nil {
		edit(uc)
	}
	write(name+".jwt", must(uc.Encode(signer)))
}

func main() {
	dir = os.Args[1]
	past := time.Now().Add(-24 * time.Hour).Unix()
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

	okp, opub := key("op", nkeys.CreateOperator)
	osk, ospub := key("op_sk", nkeys.CreateOperator)
	sys, syspub := key("sys", nkeys.CreateAccount)
	acc, apub := key("acc", nkeys.CreateAccount)
	ask, _ := key("acc_sk", nkeys.CreateAccount)
	ascoped, ascopedpub := key("acc_scoped", nkeys.CreateAccount)
	lim, limpub := key("lim", nkeys.CreateAccount)
	exp, exppub := key("exp", nkeys.CreateAccount)
	unk, unkpub := key("unk", nkeys.CreateAccount)
	nob, nobpub := key("nob", nkeys.CreateAccount)
	_ = sys
	_ = ascoped

	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "OP"
	oc.SystemAccount = syspub
	oc.SigningKeys.Add(ospub)
	write("op.jwt", must(oc.Encode(okp)))

	// An operator that names no system account.
	nosys := jwt.NewOperatorClaims(opub)
	nosys.Name = "OP"
	nosys.SigningKeys.Add(ospub)
	write("op_nosys.jwt", must(nosys.Encode(okp)))

	sc := jwt.NewAccountClaims(syspub)
	sc.Name = "SYS"
	write("sys.jwt", must(sc.Encode(okp)))

	ac := jwt.NewAccountClaims(apub)
	ac.Name = "ACC"
	ac.Tags.Add("team:blue")
	askpub, _ := ask.PublicKey()
	ac.SigningKeys.Add(askpub)
	scope := jwt.NewUserScope()
	scope.Key = ascopedpub
	scope.Role = "templated"
	scope.Template.Pub.Allow.Add("{{name()}}.>", "acc.{{account-name()}}")
	scope.Template.Sub.Allow.Add("_INBOX.>", "{{tag(dept)}}.in")
	ac.SigningKeys.AddScopedSigner(scope)
	// Signed by the operator's signing key: the chain must accept it.
	user("u_revoked", acc, apub, nil)
	// Revocations are at "now": the revoked user's iat must not be after it.
	write("acc.jwt", "") // placeholder, replaced below
	user("u_good", acc, apub, nil)
	user("u_perms", acc, apub, func(uc *jwt.UserClaims) {
		uc.Pub.Allow.Add("foo.>", "_INBOX.>")
		uc.Pub.Deny.Add("foo.secret")
		uc.Sub.Allow.Add("foo.>", "_INBOX.>")
		uc.Sub.Deny.Add("foo.hidden")
	})
	user("u_resp", acc, apub, func(uc *jwt.UserClaims) {
		uc.Sub.Allow.Add("svc")
		uc.Resp = &jwt.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
	})
	user("u_bearer", acc, apub, func(uc *jwt.UserClaims) { uc.BearerToken = true })
	user("u_expired", acc, apub, func(uc *jwt.UserClaims) { uc.Expires = past })
	user("u_future", acc, apub, func(uc *jwt.UserClaims) { uc.Expires = future })
	user("u_nbf", acc, apub, func(uc *jwt.UserClaims) { uc.NotBefore = future })
	user("u_sk", ask, apub, nil)
	user("u_scoped", ascoped, apub, func(uc *jwt.UserClaims) {
		uc.SetScoped(true)
		uc.Tags.Add("dept:sales", "dept:ops")
	})
	user("u_scoped_perms", ascoped, apub, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add("x") })
	user("u_src", acc, apub, func(uc *jwt.UserClaims) { uc.Src.Add("10.0.0.0/8") })
	user("u_src_ok", acc, apub, func(uc *jwt.UserClaims) { uc.Src.Add("10.0.0.0/8", "127.0.0.0/8") })
	user("u_ws", acc, apub, func(uc *jwt.UserClaims) { uc.AllowedConnectionTypes.Add("WEBSOCKET") })
	user("u_std", acc, apub, func(uc *jwt.UserClaims) { uc.AllowedConnectionTypes.Add("STANDARD", "FOO") })
	user("u_ulimits", acc, apub, func(uc *jwt.UserClaims) { uc.Limits.Subs = 1; uc.Limits.Payload = 8 })
	user("u_badsub", acc, apub, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add("a b c") })
	// A user key that is not signed by its account but by another one.
	user("u_wrongacc", unk, apub, func(uc *jwt.UserClaims) { uc.IssuerAccount = apub })
	rp, _ := os.ReadFile(filepath.Join(dir, "u_revoked.pub"))
	ac.RevokeAt(strings.TrimSpace(string(rp)), time.Now().Add(time.Second))
	write("acc.jwt", must(ac.Encode(osk)))

	lc := jwt.NewAccountClaims(limpub)
	lc.Name = "LIM"
	lc.Limits.Conn = 1
	lc.Limits.Subs = 2
	lc.Limits.Payload = 16
	write("lim.jwt", must(lc.Encode(okp)))
	user("u_lim", lim, limpub, nil)

	ec := jwt.NewAccountClaims(exppub)
	ec.Name = "EXP"
	ec.Expires = past
	write("exp.jwt", must(ec.Encode(okp)))
	user("u_exp_acc", exp, exppub, nil)

	nc := jwt.NewAccountClaims(nobpub)
	nc.Name = "NOB"
	nc.Limits.DisallowBearer = true
	write("nob.jwt", must(nc.Encode(okp)))
	user("u_nob_bearer", nob, nobpub, func(uc *jwt.UserClaims) { uc.BearerToken = true })

	// An account the resolver does not know, and one signed by a stranger.
	uc := jwt.NewAccountClaims(unkpub)
	uc.Name = "UNK"
	write("unk.jwt", must(uc.Encode(okp)))
	user("u_unk", unk, unkpub, nil)
	stranger, _ := key("stranger", nkeys.CreateOperator)
	sa := jwt.NewAccountClaims(apub)
	sa.Name = "ACC"
	write("acc_stranger.jwt", must(sa.Encode(stranger)))

	// Good user JWT with another JWT's signature.
	g, _ := os.ReadFile(filepath.Join(dir, "u_good.jwt"))
	o, _ := os.ReadFile(filepath.Join(dir, "u_perms.jwt"))
	gp := strings.Split(strings.TrimSpace(string(g)), ".")
	op := strings.Split(strings.TrimSpace(string(o)), ".")
	write("u_badsig.jwt", gp[0]+"."+gp[1]+"."+op[2])
	fmt.Println("ok")
}
