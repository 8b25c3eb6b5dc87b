// Authentication, permissions and TLS scenarios for nats.js, run once per
// client generation from test/v2.test.mjs and test/v3.test.mjs. Same list as
// nats-go/auth_test.go and nats-c/nats_c_auth.c; test names start with the
// parity row id. The adapter `lib` hides the API differences:
//   connect, nkeyAuthenticator(seedBytes),
//   isAuthError(err)        the client's "Authorization Violation" error
//   onAsyncError(nc, fn)    fn({operation, subject, queue, message}) for each
//                           async server error (message: null where the client
//                           does not expose the text)
// Configs: fixtures/auth/*.conf, fixtures/interop/*.conf (INTEROP_FIXTURES);
// TLS certificates come from fixtures/interop/gen-tls.sh, once per run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, RawConn } from "./server.mjs";
import { collect, waitFor } from "./scenarios.mjs";

const enc = new TextEncoder();
const dec = new TextDecoder();
const BCRYPT_HASH = "$2a$04$chIhHqF4M40q9NGN8sHpEu97ZPMbFoOYIrZSw.QDGzuQPsg9.jDeC";

const fixturesDir = process.env.INTEROP_FIXTURES ||
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../fixtures");

function fixture(rel) {
  const p = join(fixturesDir, rel);
  assert.ok(existsSync(p), `fixture ${p} missing`);
  return p;
}

// INTEROP_SERVER_FEATURES: "all" for nats-server, cnatsd's parity_features
// otherwise (tests/interop/meson.build). Unset: only nats-server has all.
function serverHas(feature) {
  const f = process.env.INTEROP_SERVER_FEATURES;
  if (f === undefined) return basename(process.env.NATS_SERVER_BIN || "nats-server") === "nats-server";
  return f.split(",").map((x) => x.trim()).some((x) => x === "all" || x === feature);
}

let tlsDir = null;
function tlsCerts() {
  if (!tlsDir) {
    const d = mkdtempSync(join(tmpdir(), "nats-js-tls-"));
    execFileSync("sh", [fixture("interop/gen-tls.sh"), d], { stdio: ["ignore", "ignore", "inherit"] });
    process.on("exit", () => rmSync(d, { recursive: true, force: true }));
    tlsDir = d;
  }
  return tlsDir;
}

export function authScenarios(lib) {
  // Each test: a fresh server with `conf`; connections closed afterwards.
  // newer: the behaviour is newer than the 2.9.10 reference ("all" = nats-server 2.9.10).
  const it = (name, conf, fn, { tls = false, newer = false } = {}) => {
    const skip = tls && !serverHas("tls") ? "server under test lacks feature tls"
      : newer && process.env.INTEROP_SERVER_FEATURES === "all" ? "newer than the nats-server 2.9.10 reference"
      : false;
    test(name, { timeout: 45000, skip }, async () => {
      let env = {};
      let certs = null;
      if (tls) {
        certs = tlsCerts();
        env = {
          INTEROP_TLS_CERT: join(certs, "server.pem"),
          INTEROP_TLS_KEY: join(certs, "server-key.pem"),
          INTEROP_TLS_CA: join(certs, "ca.pem"),
        };
      }
      const srv = await Server.start(["-c", fixture(conf)], env);
      const conns = [];
      const connect = async (opts = {}) => {
        const nc = await lib.connect({ servers: srv.url, ...opts });
        conns.push(nc);
        return nc;
      };
      // The connect error, or null after a connection that came up (closed).
      const connectErr = async (opts = {}) => {
        try {
          const nc = await lib.connect({ servers: srv.url, reconnect: false, ...opts });
          await nc.close();
          return null;
        } catch (err) {
          return err;
        }
      };
      const expectAuthErr = async (what, opts = {}) => {
        const err = await connectErr(opts);
        assert.ok(err, `${what}: connected`);
        assert.ok(lib.isAuthError(err), `${what}: got ${err?.name} ${err?.code} ${err?.message}`);
        assert.match(err.message, /Authorization Violation/, what);
      };
      let failed = true;
      try {
        await fn({ srv, connect, connectErr, expectAuthErr, certs });
        failed = false;
      } finally {
        for (const nc of conns) await nc.close().catch(() => {});
        await srv.cleanup(failed);
      }
    });
  };

  // nc receives its own message on subject.
  const roundtrip = async (nc, subject) => {
    const c = collect(nc, subject);
    await nc.flush();
    nc.publish(subject, enc.encode(`ping ${subject}`));
    const m = await c.next();
    assert.equal(dec.decode(m.data), `ping ${subject}`);
    c.sub.unsubscribe();
  };

  // Async errors of one connection.
  const asyncErrors = (nc) => {
    const a = { list: [] };
    lib.onAsyncError(nc, (e) => a.list.push(e));
    a.expect = async (operation, subject, queue, message) => {
      const match = (e) => e.operation === operation && e.subject === subject && e.queue === queue;
      await waitFor(5000, () => a.list.some(match));
      const e = a.list.find(match);
      assert.ok(e, `no ${operation} violation for ${subject}; got ${JSON.stringify(a.list)}`);
      if (e.message !== null) assert.equal(e.message, message);
    };
    return a;
  };

  it("R094 token", "auth/token.conf", async ({ srv, connect, expectAuthErr }) => {
    await roundtrip(await connect({ token: "s3cr3t" }), "tok");
    await expectAuthErr("wrong token", { token: "s3cr3t-not" });
    await expectAuthErr("missing token");
    await expectAuthErr("user/pass instead of token", { user: "s3cr3t", pass: "s3cr3t" });
  });

  it("R097 bcrypt-token", "auth/bcrypt_token.conf", async ({ connect, expectAuthErr }) => {
    await roundtrip(await connect({ token: "builder" }), "tok");
    await expectAuthErr("wrong token", { token: "builder2" });
    await expectAuthErr("hash as token", { token: BCRYPT_HASH });
  });

  it("R093 user-password", "auth/users.conf", async ({ connect, expectAuthErr }) => {
    await roundtrip(await connect({ user: "alice", pass: "wonderland" }), "up");
    await expectAuthErr("wrong password", { user: "alice", pass: "wonderlan" });
    await expectAuthErr("unknown user", { user: "carol", pass: "wonderland" });
    await expectAuthErr("no credentials");
  });

  it("R097 bcrypt-password", "auth/users.conf", async ({ connect, expectAuthErr }) => {
    await roundtrip(await connect({ user: "bob", pass: "builder" }), "bc");
    await expectAuthErr("wrong password", { user: "bob", pass: "Builder" });
    await expectAuthErr("hash as password", { user: "bob", pass: BCRYPT_HASH });
  });

  it("R095 nkey-seed", "interop/R095-nkey.conf", async ({ connect, expectAuthErr }) => {
    const seed = (f) => enc.encode(readFileSync(fixture(f), "utf8").trim());
    await roundtrip(await connect({ authenticator: lib.nkeyAuthenticator(seed("interop/R095-user.nk")) }), "nk");
    await expectAuthErr("unknown nkey", { authenticator: lib.nkeyAuthenticator(seed("interop/R095-other.nk")) });
    await expectAuthErr("no credentials");
    await roundtrip(await connect({ user: "alice", pass: "wonderland" }), "nk.pw");
  });

  it("R307 no-auth-user", "auth/no_auth_user.conf", async ({ connect, expectAuthErr }) => {
    const guest = await connect();
    const ae = asyncErrors(guest);
    await roundtrip(guest, "foo");
    guest.publish("bar", enc.encode("x"));
    await ae.expect("publish", "bar", undefined, 'Permissions Violation for Publish to "bar"');
    await roundtrip(await connect({ user: "admin", pass: "adminpw" }), "bar");
    await expectAuthErr("wrong password", { user: "admin", pass: "nope" });
    await expectAuthErr("unknown user", { user: "guest2", pass: "g" });
  });

  it("R110 R112 publish-denied", "auth/users.conf", async ({ connect }) => {
    const alice = await connect({ user: "alice", pass: "wonderland" });
    const watch = collect(alice, ">");
    await alice.flush();
    const nc = await connect({ user: "limited", pass: "pw" });
    const ae = asyncErrors(nc);
    nc.publish("baz", enc.encode("not in allow"));
    nc.publish("foo.secret", enc.encode("in deny"));
    nc.publish("foo.ok", enc.encode("allowed"));
    await nc.flush();
    await ae.expect("publish", "baz", undefined, 'Permissions Violation for Publish to "baz"');
    await ae.expect("publish", "foo.secret", undefined, 'Permissions Violation for Publish to "foo.secret"');
    assert.equal((await watch.next()).subject, "foo.ok");
    await watch.none();
    assert.equal(nc.isClosed(), false);
    await roundtrip(nc, "foo.again");
    assert.equal(ae.list.length, 2);
  });

  it("R111 R113 subscribe-denied", "auth/users.conf", async ({ connect }) => {
    const nc = await connect({ user: "limited", pass: "pw" });
    const ae = asyncErrors(nc);
    // A denied subscription is closed by the client with the server's error.
    const subErrs = [];
    const sub = (subject, queue) => {
      const c = { msgs: [] };
      c.sub = nc.subscribe(subject, {
        queue,
        callback: (err, m) => (err ? subErrs.push(err.message) : c.msgs.push(m)),
      });
      return c;
    };
    const denied = sub("baz");
    const hidden = sub("foo.hidden");
    const qdenied = sub("q.a", "v2");
    const qok = sub("q.a", "v1");
    await nc.flush();
    await ae.expect("subscription", "baz", undefined, 'Permissions Violation for Subscription to "baz"');
    await ae.expect("subscription", "foo.hidden", undefined,
      'Permissions Violation for Subscription to "foo.hidden"');
    await ae.expect("subscription", "q.a", "v2",
      'Permissions Violation for Subscription to "q.a" using queue "v2"');
    await waitFor(2000, () => subErrs.length >= 3);
    assert.deepEqual(subErrs.map((m) => m.replace(/^'|'$/g, "")).sort(), [
      'Permissions Violation for Subscription to "baz"',
      'Permissions Violation for Subscription to "foo.hidden"',
      'Permissions Violation for Subscription to "q.a" using queue "v2"',
    ]);
    const alice = await connect({ user: "alice", pass: "wonderland" });
    for (const s of ["baz", "foo.hidden", "q.a"]) alice.publish(s, enc.encode(s));
    await alice.flush();
    await waitFor(5000, () => qok.msgs.length > 0);
    await sleep(100);
    assert.equal(qok.msgs.length, 1);
    assert.equal(denied.msgs.length + hidden.msgs.length + qdenied.msgs.length, 0);
    assert.equal(nc.isClosed(), false);
    await roundtrip(nc, "foo.still");
  });

  it("R116 allow-responses", "auth/users.conf", async ({ connect }) => {
    const rsp = await connect({ user: "responder", pass: "pw" });
    const ae = asyncErrors(rsp);
    rsp.subscribe("req", {
      callback: (err, m) => {
        if (err) return;
        // allow_responses (max 1) lets only the first answer through.
        rsp.publish(m.reply, enc.encode("answer"));
        rsp.publish(m.reply, enc.encode("second"));
      },
    });
    await rsp.flush();
    const cli = await connect({ user: "alice", pass: "wonderland" });
    const r = await cli.request("req", enc.encode("q"), { timeout: 5000 });
    assert.equal(dec.decode(r.data), "answer");
    const inbox = `_INBOX.interop.${process.pid}`;
    const watch = collect(cli, inbox);
    await cli.flush();
    cli.publish("req", enc.encode("q2"), { reply: inbox });
    assert.equal(dec.decode((await watch.next()).data), "answer");
    await watch.none();
    await ae.expect("publish", inbox, undefined, `Permissions Violation for Publish to "${inbox}"`);
    rsp.publish("elsewhere", enc.encode("x"));
    await ae.expect("publish", "elsewhere", undefined, 'Permissions Violation for Publish to "elsewhere"');
    assert.equal(rsp.isClosed(), false);
  });

  // ---- TLS (R169-R172) ----

  it("R169 R170 tls-required", "interop/R169-tls.conf", async ({ srv, connect, certs }) => {
    const nc = await connect({ tls: { caFile: join(certs, "ca.pem") } });
    assert.equal(nc.info.tls_required, true);
    await roundtrip(nc, "tls");
    const nc2 = await connect({ tls: { caFile: join(certs, "ca.pem") } });
    const c = collect(nc2, "tls.x");
    await nc2.flush();
    nc.publish("tls.x", enc.encode("over tls"));
    assert.equal(dec.decode((await c.next()).data), "over tls");
    // Plain-text CONNECT on a TLS-required port: no session, connection dropped.
    const rc = await RawConn.connect(srv.port);
    const info = await rc.line();
    assert.match(info, /^INFO .*"tls_required":true/);
    rc.send('CONNECT {"verbose":false}\r\nPING\r\n');
    assert.equal(await rc.waitClosed(5000), true);
  }, { tls: true });

  it("R171 ca-validation-failure", "interop/R169-tls.conf", async ({ connectErr, certs }) => {
    // An unrelated CA, or the system roots only: certificate verification
    // fails in the client (Node's error text, the same for both servers).
    for (const opts of [{ tls: { caFile: join(certs, "other-ca.pem") } }, {}]) {
      const err = await connectErr(opts);
      assert.ok(err, `connected with ${JSON.stringify(opts)}`);
      const text = `${err.message} ${err.cause?.message ?? ""} ${err.code ?? ""} ${err.cause?.code ?? ""}`;
      assert.match(text, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/, text);
    }
    assert.equal(await connectErr({ tls: { caFile: join(certs, "ca.pem") } }), null);
  }, { tls: true });

  it("R172 mutual-tls", "interop/R172-mtls.conf", async ({ connect, connectErr, certs }) => {
    const ca = join(certs, "ca.pem");
    const nc = await connect({
      tls: { caFile: ca, certFile: join(certs, "client.pem"), keyFile: join(certs, "client-key.pem") },
    });
    await roundtrip(nc, "mtls");
    // No client certificate, or one from an unrelated CA: refused (the
    // alert text differs between TLS stacks; only the refusal is compared).
    assert.ok(await connectErr({ tls: { caFile: ca } }), "connected without a client certificate");
    assert.ok(await connectErr({
      tls: { caFile: ca, certFile: join(certs, "rogue.pem"), keyFile: join(certs, "rogue-key.pem") },
    }), "connected with a client certificate from an unknown CA");
  }, { tls: true });

  // ---- TLS first (R167, nats-server 2.10.4 handshake_first) ----
  it("R167 tls-first", "interop/R167-tls-first.conf", async ({ connect, connectErr, certs }) => {
    const ca = join(certs, "ca.pem");
    // The client starts the handshake before any INFO, as the server expects.
    const nc = await connect({ tls: { caFile: ca, handshakeFirst: true } });
    assert.equal(nc.info.tls_required, true);
    await roundtrip(nc, "tlsfirst");
    // An INFO-first client waits for an INFO that never comes in clear text.
    assert.ok(await connectErr({ tls: { caFile: ca }, timeout: 1500 }), "INFO-first client connected");
  }, { tls: true, newer: true });
}
