// Process control for the nats.js interop suite: start the server named by
// NATS_SERVER_BIN (cnatsd or nats-server) on a free port, learn the port from
// the ports file both servers write (<dir>/<exe-basename>_<pid>.ports), restart
// it on the same port, signal it. Plus a raw socket client for what the
// libraries refuse to send.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

// Wait for p or ms, whichever is first; the timer is cleared so a finished
// wait never keeps the process (and node --test) alive.
export function within(p, ms) {
  let t;
  const timeout = new Promise((r) => { t = setTimeout(() => r(false), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

export function serverBin() {
  return process.env.NATS_SERVER_BIN || "/usr/sbin/nats-server";
}

const live = new Set(); // servers to kill if the test process exits early
process.on("exit", () => {
  for (const s of live) s.proc?.kill("SIGKILL");
});

function readPorts(path) {
  let o;
  try {
    o = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return 0; // not there or half written
  }
  for (const k of ["nats", "client"]) {
    const u = o?.[k]?.[0];
    if (u) return Number(u.slice(u.lastIndexOf(":") + 1));
  }
  return 0;
}

export class Server {
  // args: extra flags after the common ones (e.g. ["-c", conf]);
  // env: extra environment (config $VARIABLES).
  constructor(args = [], env = {}) {
    this.args = args;
    this.env = env;
    this.bin = serverBin();
    this.dir = mkdtempSync(join(tmpdir(), "nats-js-interop-"));
    this.log = join(this.dir, "server.log");
    this.proc = null;
    this.port = 0;
  }

  static async start(args = [], env = {}) {
    const s = new Server(args, env);
    await s.spawn(-1);
    return s;
  }

  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }

  async spawn(port) {
    const fd = openSync(this.log, "a");
    const proc = spawn(this.bin,
      ["-a", "127.0.0.1", "-p", String(port), "--ports_file_dir", this.dir, ...this.args],
      { stdio: ["ignore", fd, fd], env: { ...process.env, ...this.env } });
    closeSync(fd);
    this.proc = proc;
    live.add(this);
    let exited = false;
    proc.exitPromise = new Promise((resolve) => proc.once("exit", () => { exited = true; resolve(); }));
    await new Promise((resolve, reject) => {
      proc.once("spawn", resolve);
      proc.once("error", reject);
    });
    const pf = join(this.dir, `${basename(this.bin)}_${proc.pid}.ports`);
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      if (exited) throw new Error(`server exited early: ${this.logText()}`);
      const p = readPorts(pf);
      if (p > 0) {
        this.port = p;
        return;
      }
      await sleep(5);
    }
    await this.kill();
    throw new Error(`no ports file ${pf} after 5s`);
  }

  logText() {
    try { return readFileSync(this.log, "utf8"); } catch { return ""; }
  }

  async waitExit(ms) {
    if (!this.proc) return true;
    const p = this.proc;
    const done = await within(p.exitPromise.then(() => true), ms);
    if (done) {
      live.delete(this);
      this.proc = null;
    }
    return done;
  }

  // SIGTERM, then SIGKILL after 5 s.
  async stop() {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    if (!(await this.waitExit(5000))) await this.kill();
  }

  async kill() {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.waitExit(5000);
  }

  signal(sig) {
    if (!this.proc || !this.proc.kill(sig)) throw new Error(`cannot send ${sig}`);
  }

  async restart() {
    const port = this.port;
    await this.stop();
    await this.spawn(port);
    if (this.port !== port) throw new Error(`restarted on ${this.port}, want ${port}`);
  }

  async cleanup(failed) {
    await this.stop();
    if (failed || process.env.INTEROP_VERBOSE) process.stderr.write(`server log:\n${this.logText()}\n`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A protocol-level connection: line reads with deadlines, raw writes.
export class RawConn {
  static async connect(port, { rcvbuf = 0 } = {}) {
    const c = new RawConn();
    c.sock = net.createConnection({ host: "127.0.0.1", port });
    c.buf = "";
    c.closed = false;
    c.waiters = [];
    c.sock.setEncoding("latin1");
    c.sock.on("data", (d) => { c.buf += d; c.wake(); });
    c.sock.on("close", () => { c.closed = true; c.wake(); });
    c.sock.on("error", () => {});
    await new Promise((resolve, reject) => {
      c.sock.once("connect", resolve);
      c.sock.once("error", reject);
    });
    return c;
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  async line(ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return l;
      }
      if (this.closed) throw new Error(`connection closed (pending ${JSON.stringify(this.buf)})`);
      const left = end - Date.now();
      if (left <= 0) throw new Error("raw read timeout");
      await within(new Promise((r) => this.waiters.push(r)), left);
    }
  }

  send(s) {
    this.sock.write(s);
  }

  // Stop reading so the kernel buffers fill up and the server sees a stall.
  pause() {
    this.sock.pause();
  }

  // Resume reading, discard data, resolve true on close, false on timeout.
  async waitClosed(ms) {
    this.sock.resume();
    const end = Date.now() + ms;
    while (!this.closed) {
      this.buf = "";
      const left = end - Date.now();
      if (left <= 0) return false;
      await within(new Promise((r) => this.waiters.push(r)), left);
    }
    return true;
  }

  destroy() {
    this.sock.destroy();
  }
}
