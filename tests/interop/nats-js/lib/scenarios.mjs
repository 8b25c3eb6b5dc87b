// The interop scenario list for nats.js, run once per client generation:
// test/v2.test.mjs (npm `nats` 2.29) and test/v3.test.mjs
// (`@nats-io/transport-node` 3.x). The adapter `lib` hides the few API
// differences (error classes). Same scenarios as the nats-c and nats-go suites;
// every test starts its own server from NATS_SERVER_BIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, RawConn, within } from "./server.mjs";

const MAX_PAYLOAD = 1048576;
const enc = new TextEncoder();
const dec = new TextDecoder();
const str = (m) => dec.decode(m.data);

// Collects a subscription's messages; next() waits with a deadline.
export function collect(nc, subject, opts = {}) {
  const c = { msgs: [], waiters: [], taken: 0 };
  c.sub = nc.subscribe(subject, {
    ...opts,
    callback: (err, m) => {
      if (err) return;
      c.msgs.push(m);
      const w = c.waiters;
      c.waiters = [];
      w.forEach((f) => f());
    },
  });
  c.waitCount = async (n, ms = 5000) => {
    const end = Date.now() + ms;
    while (c.msgs.length < n && Date.now() < end) {
      await within(new Promise((r) => c.waiters.push(r)), end - Date.now());
    }
    return c.msgs.length;
  };
  c.next = async (ms = 5000) => {
    const got = await c.waitCount(c.taken + 1, ms);
    assert.ok(got > c.taken, `no message on ${subject} within ${ms} ms`);
    return c.msgs[c.taken++];
  };
  c.none = async (ms = 100) => {
    await sleep(ms);
    assert.equal(c.msgs.length, c.taken, `unexpected message on ${subject}`);
  };
  return c;
}

export async function waitFor(ms, cond) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(5);
  }
  return cond();
}

// Watch status events of one type; returns a counter object.
function watch(nc, type) {
  const w = { count: 0 };
  (async () => {
    for await (const s of nc.status()) if (s.type === type) w.count++;
  })().catch(() => {});
  return w;
}

export function scenarios(lib) {
  // Each test: fresh server, connections closed and server stopped afterwards.
  const it = (name, fn) =>
    // Per-test limit so one hung await (e.g. a flush the server never answers)
    // fails that scenario instead of the whole run.
    test(name, { timeout: 45000 }, async () => {
      const srv = await Server.start();
      const conns = [];
      const connect = async (opts = {}) => {
        const nc = await lib.connect({ servers: srv.url, ...opts });
        conns.push(nc);
        return nc;
      };
      let failed = true;
      try {
        await fn({ srv, connect });
        failed = false;
      } finally {
        for (const nc of conns) await nc.close().catch(() => {});
        await srv.cleanup(failed);
      }
    });

  it("connect-info", async ({ srv, connect }) => {
    const nc = await connect();
    const info = nc.info;
    assert.ok(info.server_id, "server_id");
    assert.ok(info.version, "version");
    assert.equal(info.max_payload, MAX_PAYLOAD);
    assert.equal(info.headers, true);
    assert.equal(info.proto, 1);
    assert.equal(nc.getServer(), `127.0.0.1:${srv.port}`);
    const rc = await RawConn.connect(srv.port);
    const l = await rc.line();
    rc.destroy();
    assert.match(l, /^INFO /);
    const raw = JSON.parse(l.slice(5));
    assert.equal(raw.server_id, info.server_id);
    assert.equal(raw.version, info.version);
    assert.equal(raw.max_payload, MAX_PAYLOAD);
  });

  it("pub-sub", async ({ connect }) => {
    const nc = await connect();
    const pc = await connect();
    const c = collect(nc, "greet.joe");
    await nc.flush();
    pc.publish("greet.joe", enc.encode("hello"));
    pc.publish("greet.joe", enc.encode("with reply"), { reply: "reply.here" });
    pc.publish("greet.sam", enc.encode("not for joe"));
    pc.publish("greet.joe");
    await pc.flush();
    let m = await c.next();
    assert.equal(m.subject, "greet.joe");
    assert.equal(str(m), "hello");
    assert.ok(!m.reply);
    m = await c.next();
    assert.equal(m.reply, "reply.here");
    assert.equal(str(m), "with reply");
    m = await c.next();
    assert.equal(m.data.length, 0);
    await c.none();
  });

  it("wildcards", async ({ connect }) => {
    const nc = await connect();
    const star = collect(nc, "w.*");
    const gt = collect(nc, "w.>");
    const mid = collect(nc, "w.*.end");
    await nc.flush();
    for (const s of ["w.a", "w.a.b", "w.x.end", "w", "x.a", "w.a.b.end"]) nc.publish(s, enc.encode(s));
    await nc.flush();
    const check = async (c, want) => {
      for (const w of want) assert.equal((await c.next()).subject, w);
      await c.none();
    };
    await check(star, ["w.a"]);
    await check(gt, ["w.a", "w.a.b", "w.x.end", "w.a.b.end"]);
    await check(mid, ["w.x.end"]);
  });

  it("queue-groups", async ({ connect }) => {
    const N = 300;
    const members = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect();
      members.push(collect(c, "q.work", { queue: "workers" }));
      await c.flush();
    }
    const pc = await connect();
    const all = collect(pc, "q.work");
    await pc.flush();
    for (let i = 0; i < N; i++) pc.publish("q.work", enc.encode(String(i)));
    await pc.flush();
    assert.equal(await all.waitCount(N), N);
    await waitFor(5000, () => members.reduce((a, m) => a + m.msgs.length, 0) >= N);
    await sleep(100); // a duplicate would arrive by now
    const seen = new Set();
    let total = 0;
    for (const m of members) {
      assert.ok(m.msgs.length > 0, "every member gets some");
      total += m.msgs.length;
      m.msgs.forEach((x) => seen.add(str(x)));
    }
    assert.equal(total, N);
    assert.equal(seen.size, N);
  });

  it("request-reply", async ({ connect }) => {
    const rc = await connect();
    const replies = [];
    rc.subscribe("svc.echo", {
      callback: (err, m) => {
        replies.push(m.reply);
        m.respond(enc.encode("re:" + str(m)));
      },
    });
    await rc.flush();
    const nc = await connect();
    const answers = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => nc.request("svc.echo", enc.encode(`q${i}`), { timeout: 2000 })),
    );
    answers.forEach((m, i) => assert.equal(str(m), `re:q${i}`));
    assert.equal(replies.length, 5);
    // Muxed inbox: one wildcard subscription, replies differ in the last token.
    const prefix = replies[0].slice(0, replies[0].lastIndexOf(".") + 1);
    assert.match(prefix, /^_INBOX\.[^.]+\.$/);
    for (const r of replies) assert.ok(r.startsWith(prefix), `${r} under ${prefix}`);
    assert.equal(new Set(replies).size, 5);
  });

  it("headers", async ({ connect }) => {
    const nc = await connect();
    const c = collect(nc, "hdr");
    await nc.flush();
    const h = lib.headers();
    h.set("X-Single", "one");
    h.append("X-Multi", "a");
    h.append("X-Multi", "b");
    h.append("X-Multi", "c d");
    nc.publish("hdr", enc.encode("body"), { headers: h, reply: "hdr.reply" });
    const h2 = lib.headers();
    h2.set("Only", "header");
    nc.publish("hdr", undefined, { headers: h2 });
    await nc.flush();
    let m = await c.next();
    assert.equal(str(m), "body");
    assert.equal(m.reply, "hdr.reply");
    assert.equal(m.headers.get("X-Single"), "one");
    assert.deepEqual(m.headers.values("X-Multi"), ["a", "b", "c d"]);
    assert.equal(m.headers.has("Absent"), false);
    m = await c.next();
    assert.equal(m.data.length, 0);
    assert.equal(m.headers.get("Only"), "header");
  });

  it("no-responders", async ({ connect }) => {
    const nc = await connect();
    const t0 = Date.now();
    await assert.rejects(nc.request("nobody.home", enc.encode("?"), { timeout: 5000 }), (err) => {
      assert.ok(lib.isNoResponders(err), `not a no-responders error: ${err}`);
      return true;
    });
    assert.ok(Date.now() - t0 < 1000, "the server answered, no timeout");
  });

  it("auto-unsubscribe", async ({ connect }) => {
    const nc = await connect();
    const c = collect(nc, "au");
    c.sub.unsubscribe(5);
    const ctl = collect(nc, "au");
    await nc.flush();
    for (let i = 0; i < 12; i++) nc.publish("au", enc.encode("x"));
    await nc.flush();
    assert.equal(await ctl.waitCount(12, 3000), 12);
    await sleep(100);
    assert.equal(c.msgs.length, 5);
    assert.equal(c.sub.isClosed(), true);
  });

  it("drain-subscription", async ({ connect }) => {
    const N = 50;
    const nc = await connect();
    const pc = await connect();
    let got = 0;
    const sub = nc.subscribe("drain.s", { callback: () => { got++; } });
    await nc.flush();
    for (let i = 0; i < N; i++) pc.publish("drain.s", enc.encode("m"));
    await pc.flush();
    await nc.flush();
    await sub.drain();
    assert.equal(got, N);
    assert.equal(sub.isClosed(), true);
    pc.publish("drain.s", enc.encode("late"));
    await pc.flush();
    await sleep(100);
    assert.equal(got, N);
    assert.equal(nc.isClosed(), false);
    await nc.flush();
  });

  it("drain-connection", async ({ connect }) => {
    const N = 50;
    const nc = await connect();
    const pc = await connect();
    let got = 0;
    nc.subscribe("drain.c", { callback: () => { got++; } });
    await nc.flush();
    for (let i = 0; i < N; i++) pc.publish("drain.c", enc.encode("m"));
    await pc.flush();
    await nc.flush();
    const closed = nc.closed();
    await nc.drain();
    assert.equal(await closed, undefined); // closed without error
    assert.equal(got, N);
    assert.equal(nc.isClosed(), true);
    await pc.flush();
  });

  it("flush-ping", async ({ connect }) => {
    const nc = await connect();
    for (let i = 0; i < 20; i++) await nc.flush();
    const rtt = await nc.rtt();
    assert.ok(rtt >= 0 && rtt < 1000, `rtt ${rtt}`);
  });

  it("reconnect", async ({ srv, connect }) => {
    const nc = await connect({ reconnectTimeWait: 20, maxReconnectAttempts: -1, reconnectJitter: 0 });
    const disc = watch(nc, "disconnect");
    const reco = watch(nc, "reconnect");
    const c = collect(nc, "rc");
    await nc.flush();
    const id1 = nc.info.server_id;
    await srv.stop();
    assert.ok(await waitFor(5000, () => disc.count > 0), "disconnect event");
    await srv.restart();
    assert.ok(await waitFor(10000, () => reco.count > 0), "reconnect event");
    assert.notEqual(nc.info.server_id, id1);
    // The replayed SUB must reach the server before another connection publishes.
    await nc.flush();
    const pc = await connect();
    pc.publish("rc", enc.encode("after"));
    await pc.flush();
    assert.equal(str(await c.next()), "after");
  });

  it("lame-duck", async ({ srv, connect }) => {
    const nc = await connect({ reconnect: false });
    const ldm = watch(nc, "ldm");
    await nc.flush();
    assert.equal(ldm.count, 0);
    srv.signal("SIGUSR2");
    assert.ok(await waitFor(5000, () => ldm.count > 0), "lame duck event");
    // The listener is closed at once: new clients are refused.
    await assert.rejects(lib.connect({ servers: srv.url, timeout: 2000 }));
    await nc.close();
    await srv.kill(); // lame duck mode would take minutes to finish on its own
  });

  it("max-payload", async ({ srv, connect }) => {
    const nc = await connect();
    const c = collect(nc, "mp");
    await nc.flush();
    const big = new Uint8Array(MAX_PAYLOAD + 1);
    assert.throws(() => nc.publish("mp", big), (err) => {
      assert.ok(lib.isMaxPayload(err), `not a max payload error: ${err}`);
      return true;
    });
    const h = lib.headers();
    h.set("K", "value");
    assert.throws(() => nc.publish("mp", big.subarray(0, MAX_PAYLOAD - 4), { headers: h }),
      (err) => lib.isMaxPayload(err));
    nc.publish("mp", big.subarray(0, MAX_PAYLOAD));
    await nc.flush();
    assert.equal((await c.next()).data.length, MAX_PAYLOAD);
    await c.none();
    assert.equal(nc.isClosed(), false);

    const rc = await RawConn.connect(srv.port);
    await rc.line(); // INFO
    rc.send('CONNECT {"verbose":false,"pedantic":false}\r\nPUB mp 1048577\r\n');
    assert.equal(await rc.line(), "-ERR 'Maximum Payload Violation'");
    assert.ok(await rc.waitClosed(5000), "server closes the connection");
  });

  it("slow-consumer", async ({ srv, connect }) => {
    // A raw subscriber that stops reading: the client libraries always read.
    const rc = await RawConn.connect(srv.port);
    await rc.line();
    rc.send("CONNECT {\"verbose\":false}\r\nSUB sc.big 1\r\nPING\r\n");
    assert.equal(await rc.line(), "PONG");
    rc.pause();
    const hc = await connect();
    const ok = collect(hc, "sc.ok");
    await hc.flush();
    const pc = await connect();
    const pc2 = await connect();
    // 96 MiB: over the default 64 MiB max_pending plus socket buffers; the
    // server cuts the subscriber off at max_pending or the 10 s write deadline.
    const chunk = new Uint8Array(512 * 1024).fill(83);
    for (let i = 0; i < 192; i++) pc.publish("sc.big", chunk);
    // Meanwhile other connections are served.
    for (let i = 0; i < 10; i++) pc2.publish("sc.ok", enc.encode("during"));
    await pc2.flush();
    for (let i = 0; i < 10; i++) assert.equal(str(await ok.next()), "during");
    await pc.flush();
    assert.ok(await rc.waitClosed(15000), "stalled subscriber disconnected");
    assert.equal(pc.isClosed(), false);
    for (let i = 0; i < 10; i++) pc.publish("sc.ok", enc.encode("after"));
    await pc.flush();
    for (let i = 0; i < 10; i++) assert.equal(str(await ok.next()), "after");
  });

  it("large-messages", async ({ connect }) => {
    const nc = await connect();
    const pc = await connect();
    const c = collect(nc, "large");
    await nc.flush();
    for (const [k, size] of [MAX_PAYLOAD - 1, MAX_PAYLOAD, 65536, 1].entries()) {
      const buf = new Uint8Array(size);
      for (let i = 0; i < size; i++) buf[i] = 97 + ((i * 7 + k) % 26);
      pc.publish("large", buf);
      await pc.flush();
      const m = await c.next();
      assert.equal(m.data.length, size);
      assert.ok(Buffer.from(m.data).equals(Buffer.from(buf)), `content of ${size}-byte message`);
    }
  });

  it("many-small-in-order", async ({ connect }) => {
    const N = 20000;
    const nc = await connect();
    const pc = await connect();
    const c = collect(nc, "small");
    await nc.flush();
    for (let i = 0; i < N; i++) pc.publish("small", enc.encode(String(i)));
    await pc.flush();
    assert.equal(await c.waitCount(N, 10000), N);
    for (let i = 0; i < N; i++) {
      if (str(c.msgs[i]) !== String(i)) assert.fail(`message ${i} out of order: ${str(c.msgs[i])}`);
    }
  });
}
