// The official nats.go client (Debian golang-github-nats-io-go-nats-dev, 1.22)
// against the server in NATS_SERVER_BIN. Same scenario list as the nats-c and
// nats-js suites; each test starts its own server.
package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

const maxPayload = 1048576

func connect(t *testing.T, s *server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	// Async errors (the server closing us, slow consumer) are asserted by the
	// tests that expect them; keep the default handler from printing.
	opts = append([]nats.Option{nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, opts...)
	nc, err := nats.Connect(s.url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", s.url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("NextMsg on %s: %v", sub.Subject, err)
	}
	return m
}

func expectNone(t *testing.T, sub *nats.Subscription) {
	t.Helper()
	m, err := sub.NextMsg(100 * time.Millisecond)
	if err == nil {
		t.Fatalf("unexpected message on %s: %q", m.Subject, m.Data)
	}
	if err != nats.ErrTimeout {
		t.Fatalf("NextMsg: %v", err)
	}
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func TestConnectInfo(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	if nc.ConnectedServerId() == "" {
		t.Fatal("empty server_id")
	}
	if nc.ConnectedServerVersion() == "" {
		t.Fatal("empty version")
	}
	if nc.MaxPayload() != maxPayload {
		t.Fatalf("max_payload %d", nc.MaxPayload())
	}
	if !nc.HeadersSupported() {
		t.Fatal("headers not supported")
	}
	if nc.ConnectedUrl() != s.url {
		t.Fatalf("connected url %q want %q", nc.ConnectedUrl(), s.url)
	}
	// The INFO a raw client sees carries the same identity.
	rc := rawDial(t, s.port, 0)
	l := rc.line(t, 5*time.Second)
	if !strings.HasPrefix(l, "INFO ") {
		t.Fatalf("first line %q", l)
	}
	var info struct {
		ServerID   string `json:"server_id"`
		Version    string `json:"version"`
		MaxPayload int64  `json:"max_payload"`
		Headers    bool   `json:"headers"`
		Proto      int    `json:"proto"`
	}
	must(t, json.Unmarshal([]byte(l[5:]), &info))
	if info.ServerID != nc.ConnectedServerId() || info.Version != nc.ConnectedServerVersion() ||
		info.MaxPayload != maxPayload || !info.Headers || info.Proto != 1 {
		t.Fatalf("INFO %+v", info)
	}
}

func TestPubSub(t *testing.T) {
	s := startServer(t)
	nc, pc := connect(t, s), connect(t, s)
	sub, err := nc.SubscribeSync("greet.joe")
	must(t, err)
	must(t, nc.Flush())
	must(t, pc.Publish("greet.joe", []byte("hello")))
	must(t, pc.PublishRequest("greet.joe", "reply.here", []byte("with reply")))
	must(t, pc.Publish("greet.sam", []byte("not for joe")))
	must(t, pc.Publish("greet.joe", nil))
	must(t, pc.Flush())
	m := next(t, sub)
	if m.Subject != "greet.joe" || string(m.Data) != "hello" || m.Reply != "" {
		t.Fatalf("got %q %q %q", m.Subject, m.Reply, m.Data)
	}
	m = next(t, sub)
	if m.Reply != "reply.here" || string(m.Data) != "with reply" {
		t.Fatalf("got %q %q", m.Reply, m.Data)
	}
	if m = next(t, sub); len(m.Data) != 0 {
		t.Fatalf("want empty payload, got %q", m.Data)
	}
	expectNone(t, sub)
}

func TestWildcards(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	star, _ := nc.SubscribeSync("w.*")
	gt, _ := nc.SubscribeSync("w.>")
	mid, err := nc.SubscribeSync("w.*.end")
	must(t, err)
	must(t, nc.Flush())
	for _, subj := range []string{"w.a", "w.a.b", "w.x.end", "w", "x.a", "w.a.b.end"} {
		must(t, nc.Publish(subj, []byte(subj)))
	}
	must(t, nc.Flush())
	check := func(sub *nats.Subscription, want ...string) {
		t.Helper()
		for _, w := range want {
			if m := next(t, sub); m.Subject != w {
				t.Fatalf("%s: got %s want %s", sub.Subject, m.Subject, w)
			}
		}
		expectNone(t, sub)
	}
	check(star, "w.a")
	check(gt, "w.a", "w.a.b", "w.x.end", "w.a.b.end")
	check(mid, "w.x.end")
}

func TestQueueGroups(t *testing.T) {
	const members, n = 3, 300
	s := startServer(t)
	var mu sync.Mutex
	counts := make([]int, members)
	seen := map[string]int{}
	for i := 0; i < members; i++ {
		i := i
		c := connect(t, s)
		_, err := c.QueueSubscribe("q.work", "workers", func(m *nats.Msg) {
			mu.Lock()
			counts[i]++
			seen[string(m.Data)]++
			mu.Unlock()
		})
		must(t, err)
		must(t, c.Flush())
	}
	pc := connect(t, s)
	var all int32
	_, err := pc.Subscribe("q.work", func(*nats.Msg) { atomic.AddInt32(&all, 1) })
	must(t, err)
	must(t, pc.Flush())
	for i := 0; i < n; i++ {
		must(t, pc.Publish("q.work", []byte(fmt.Sprint(i))))
	}
	must(t, pc.Flush())
	if !waitFor(5*time.Second, func() bool { return atomic.LoadInt32(&all) == n }) {
		t.Fatalf("plain subscriber got %d of %d", atomic.LoadInt32(&all), n)
	}
	waitFor(5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	time.Sleep(100 * time.Millisecond) // a duplicate would arrive by now
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for i, c := range counts {
		if c == 0 {
			t.Fatalf("member %d got nothing: %v", i, counts)
		}
		total += c
	}
	if total != n || len(seen) != n {
		t.Fatalf("total %d distinct %d, want %d each (counts %v)", total, len(seen), n, counts)
	}
}

func TestRequestReply(t *testing.T) {
	s := startServer(t)
	rc := connect(t, s)
	var mu sync.Mutex
	var replies []string
	_, err := rc.Subscribe("svc.echo", func(m *nats.Msg) {
		mu.Lock()
		replies = append(replies, m.Reply)
		mu.Unlock()
		m.Respond(append([]byte("re:"), m.Data...))
	})
	must(t, err)
	must(t, rc.Flush())
	nc := connect(t, s)
	// Concurrent requests share the one muxed inbox subscription.
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m, err := nc.Request("svc.echo", []byte(fmt.Sprintf("q%d", i)), 2*time.Second)
			if err == nil && string(m.Data) != fmt.Sprintf("re:q%d", i) {
				err = fmt.Errorf("reply %q to q%d", m.Data, i)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(replies) != 5 {
		t.Fatalf("%d requests seen", len(replies))
	}
	prefix := replies[0][:strings.LastIndexByte(replies[0], '.')+1]
	if !strings.HasPrefix(prefix, "_INBOX.") || len(prefix) <= len("_INBOX.") {
		t.Fatalf("reply subject %q", replies[0])
	}
	uniq := map[string]bool{}
	for _, r := range replies {
		if !strings.HasPrefix(r, prefix) {
			t.Fatalf("reply %q not under muxed prefix %q", r, prefix)
		}
		uniq[r] = true
	}
	if len(uniq) != 5 {
		t.Fatalf("reply subjects not distinct: %v", replies)
	}
}

func TestHeaders(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("hdr")
	must(t, err)
	must(t, nc.Flush())
	out := nats.NewMsg("hdr")
	out.Reply = "hdr.reply"
	out.Data = []byte("body")
	out.Header.Set("X-Single", "one")
	out.Header.Add("X-Multi", "a")
	out.Header.Add("X-Multi", "b")
	out.Header.Add("X-Multi", "c d")
	must(t, nc.PublishMsg(out))
	only := nats.NewMsg("hdr")
	only.Header.Set("Only", "header")
	must(t, nc.PublishMsg(only))
	must(t, nc.Flush())

	m := next(t, sub)
	if string(m.Data) != "body" || m.Reply != "hdr.reply" || m.Header.Get("X-Single") != "one" {
		t.Fatalf("got %q %q %v", m.Data, m.Reply, m.Header)
	}
	if v := m.Header.Values("X-Multi"); len(v) != 3 || v[0] != "a" || v[1] != "b" || v[2] != "c d" {
		t.Fatalf("X-Multi %q", v)
	}
	if m.Header.Get("Absent") != "" {
		t.Fatal("absent header present")
	}
	m = next(t, sub)
	if len(m.Data) != 0 || m.Header.Get("Only") != "header" {
		t.Fatalf("got %q %v", m.Data, m.Header)
	}
}

func TestNoResponders(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	t0 := time.Now()
	_, err := nc.Request("nobody.home", []byte("?"), 5*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("err %v, want no responders", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("took %v: the server did not answer", d)
	}
}

func TestAutoUnsubscribe(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	var got, ctl int32
	sub, err := nc.Subscribe("au", func(*nats.Msg) { atomic.AddInt32(&got, 1) })
	must(t, err)
	must(t, sub.AutoUnsubscribe(5))
	_, err = nc.Subscribe("au", func(*nats.Msg) { atomic.AddInt32(&ctl, 1) })
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < 12; i++ {
		must(t, nc.Publish("au", []byte("x")))
	}
	must(t, nc.Flush())
	if !waitFor(3*time.Second, func() bool { return atomic.LoadInt32(&ctl) == 12 }) {
		t.Fatalf("control got %d", atomic.LoadInt32(&ctl))
	}
	time.Sleep(100 * time.Millisecond)
	if g := atomic.LoadInt32(&got); g != 5 {
		t.Fatalf("auto-unsubscribed sub got %d, want 5", g)
	}
	if sub.IsValid() {
		t.Fatal("subscription still valid")
	}
}

func TestDrainSubscription(t *testing.T) {
	const n = 50
	s := startServer(t)
	nc, pc := connect(t, s), connect(t, s)
	var got int32
	sub, err := nc.Subscribe("drain.s", func(*nats.Msg) {
		time.Sleep(2 * time.Millisecond) // still queued when the drain starts
		atomic.AddInt32(&got, 1)
	})
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < n; i++ {
		must(t, pc.Publish("drain.s", []byte("m")))
	}
	must(t, pc.Flush())
	must(t, nc.Flush())
	must(t, sub.Drain())
	if !waitFor(5*time.Second, func() bool { return !sub.IsValid() }) {
		t.Fatal("drain did not complete")
	}
	if g := atomic.LoadInt32(&got); g != n {
		t.Fatalf("got %d of %d", g, n)
	}
	must(t, pc.Publish("drain.s", []byte("late")))
	must(t, pc.Flush())
	time.Sleep(100 * time.Millisecond)
	if g := atomic.LoadInt32(&got); g != n {
		t.Fatalf("got %d after drain", g)
	}
	if nc.Status() != nats.CONNECTED {
		t.Fatalf("status %v", nc.Status())
	}
}

func TestDrainConnection(t *testing.T) {
	const n = 50
	s := startServer(t)
	closed := make(chan struct{})
	nc := connect(t, s, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	pc := connect(t, s)
	var got int32
	_, err := nc.Subscribe("drain.c", func(*nats.Msg) {
		time.Sleep(2 * time.Millisecond)
		atomic.AddInt32(&got, 1)
	})
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < n; i++ {
		must(t, pc.Publish("drain.c", []byte("m")))
	}
	must(t, pc.Flush())
	must(t, nc.Flush())
	must(t, nc.Drain())
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after drain")
	}
	if g := atomic.LoadInt32(&got); g != n {
		t.Fatalf("got %d of %d", g, n)
	}
	if !nc.IsClosed() {
		t.Fatal("not closed")
	}
	must(t, pc.FlushTimeout(2*time.Second))
}

func TestFlushPing(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	for i := 0; i < 20; i++ {
		must(t, nc.FlushTimeout(2*time.Second))
	}
	rtt, err := nc.RTT()
	must(t, err)
	if rtt <= 0 || rtt > time.Second {
		t.Fatalf("rtt %v", rtt)
	}
}

func TestReconnect(t *testing.T) {
	s := startServer(t)
	disc := make(chan struct{}, 10)
	reco := make(chan struct{}, 10)
	nc := connect(t, s,
		nats.MaxReconnects(500), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { disc <- struct{}{} }),
		nats.ReconnectHandler(func(*nats.Conn) { reco <- struct{}{} }))
	sub, err := nc.SubscribeSync("rc")
	must(t, err)
	must(t, nc.Flush())
	id1 := nc.ConnectedServerId()

	s.stop()
	select {
	case <-disc:
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect event")
	}
	s.restart()
	select {
	case <-reco:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect event")
	}
	if nc.Status() != nats.CONNECTED || nc.ConnectedServerId() == id1 {
		t.Fatalf("status %v server %s (old %s)", nc.Status(), nc.ConnectedServerId(), id1)
	}
	// The replayed SUB must reach the server before another connection publishes.
	must(t, nc.FlushTimeout(5*time.Second))
	pc := connect(t, s)
	must(t, pc.Publish("rc", []byte("after")))
	must(t, pc.Flush())
	if m := next(t, sub); string(m.Data) != "after" {
		t.Fatalf("got %q", m.Data)
	}
}

func TestLameDuck(t *testing.T) {
	s := startServer(t)
	ldm := make(chan struct{}, 1)
	nc := connect(t, s, nats.NoReconnect(),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }))
	must(t, nc.Flush())
	select {
	case <-ldm:
		t.Fatal("lame duck event before the signal")
	default:
	}
	s.signal(syscall.SIGUSR2)
	select {
	case <-ldm:
	case <-time.After(5 * time.Second):
		t.Fatal("no lame duck event")
	}
	// The listener is closed at once: new clients are refused.
	if late, err := nats.Connect(s.url, nats.Timeout(2*time.Second)); err == nil {
		late.Close()
		t.Fatal("connected to a server in lame duck mode")
	}
	nc.Close()
	s.kill() // lame duck mode would take minutes to finish on its own
}

func TestMaxPayload(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("mp")
	must(t, err)
	must(t, nc.Flush())
	big := make([]byte, maxPayload+1)
	if err := nc.Publish("mp", big); err != nats.ErrMaxPayload {
		t.Fatalf("limit+1: err %v, want ErrMaxPayload", err)
	}
	hm := nats.NewMsg("mp")
	hm.Data = big[:maxPayload-4]
	hm.Header.Set("K", "value")
	if err := nc.PublishMsg(hm); err != nats.ErrMaxPayload {
		t.Fatalf("headers+data over limit: err %v", err)
	}
	must(t, nc.Publish("mp", big[:maxPayload]))
	must(t, nc.FlushTimeout(5*time.Second))
	if m := next(t, sub); len(m.Data) != maxPayload {
		t.Fatalf("got %d bytes", len(m.Data))
	}
	expectNone(t, sub)

	rc := rawDial(t, s.port, 0)
	rc.line(t, 5*time.Second) // INFO
	rc.send(t, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPUB mp 1048577\r\n")
	if l := rc.line(t, 5*time.Second); l != "-ERR 'Maximum Payload Violation'" {
		t.Fatalf("got %q", l)
	}
	if !rc.waitClosed(5 * time.Second) {
		t.Fatal("server kept the connection open")
	}
}

func TestSlowConsumer(t *testing.T) {
	s := startServer(t)
	// A raw subscriber that never reads: the client libraries always read.
	rc := rawDial(t, s.port, 4096)
	rc.line(t, 5*time.Second)
	rc.send(t, "CONNECT {\"verbose\":false}\r\nSUB sc.big 1\r\nPING\r\n")
	if l := rc.line(t, 5*time.Second); l != "PONG" {
		t.Fatalf("got %q", l)
	}
	hc := connect(t, s)
	ok, err := hc.SubscribeSync("sc.ok")
	must(t, err)
	must(t, hc.Flush())
	var closed int32
	pc := connect(t, s, nats.ClosedHandler(func(*nats.Conn) { atomic.AddInt32(&closed, 1) }))
	pc2 := connect(t, s)

	// 96 MiB: over the default 64 MiB max_pending plus socket buffers; the
	// server cuts the subscriber off at max_pending or the 10 s write deadline.
	chunk := bytes.Repeat([]byte("S"), 512*1024)
	for i := 0; i < 192; i++ {
		must(t, pc.Publish("sc.big", chunk))
	}
	// Meanwhile other connections are served.
	for i := 0; i < 10; i++ {
		must(t, pc2.Publish("sc.ok", []byte("during")))
	}
	must(t, pc2.FlushTimeout(5*time.Second))
	for i := 0; i < 10; i++ {
		if m := next(t, ok); string(m.Data) != "during" {
			t.Fatalf("got %q", m.Data)
		}
	}
	must(t, pc.FlushTimeout(20*time.Second))
	if !rc.waitClosed(15 * time.Second) {
		t.Fatal("stalled subscriber was not disconnected")
	}
	if pc.Status() != nats.CONNECTED {
		t.Fatalf("publisher status %v", pc.Status())
	}
	for i := 0; i < 10; i++ {
		must(t, pc.Publish("sc.ok", []byte("after")))
	}
	must(t, pc.FlushTimeout(5*time.Second))
	for i := 0; i < 10; i++ {
		if m := next(t, ok); string(m.Data) != "after" {
			t.Fatalf("got %q", m.Data)
		}
	}
	if atomic.LoadInt32(&closed) != 0 {
		t.Fatal("publisher was closed")
	}
}

func TestLargeMessages(t *testing.T) {
	s := startServer(t)
	nc, pc := connect(t, s), connect(t, s)
	sub, err := nc.SubscribeSync("large")
	must(t, err)
	must(t, nc.Flush())
	for k, size := range []int{maxPayload - 1, maxPayload, 65536, 1} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte('a' + (i*7+k)%26)
		}
		must(t, pc.Publish("large", buf))
		must(t, pc.FlushTimeout(5*time.Second))
		if m := next(t, sub); !bytes.Equal(m.Data, buf) {
			t.Fatalf("size %d: got %d bytes, content differs", size, len(m.Data))
		}
	}
}

func TestManySmallInOrder(t *testing.T) {
	const n = 20000
	s := startServer(t)
	nc, pc := connect(t, s), connect(t, s)
	sub, err := nc.SubscribeSync("small")
	must(t, err)
	must(t, sub.SetPendingLimits(2*n, 64*1024*1024))
	must(t, nc.Flush())
	for i := 0; i < n; i++ {
		must(t, pc.Publish("small", []byte(fmt.Sprint(i))))
	}
	must(t, pc.FlushTimeout(10*time.Second))
	for i := 0; i < n; i++ {
		if m := next(t, sub); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("message %d out of order: got %q", i, m.Data)
		}
	}
	if d, _ := sub.Dropped(); d != 0 {
		t.Fatalf("%d dropped", d)
	}
}
