// reqrep-go: request/reply round-trip latency through the official nats.go
// client (one requester, one responder, one request in flight), a second
// opinion next to natsbench's raw-protocol reqrep.  Prints one JSON line.
//
//	reqrep-go nats://127.0.0.1:4222 [count]
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := os.Args[1]
	n := 20000
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	a, err := nats.Connect(url)
	if err != nil {
		fmt.Println("connect:", err)
		os.Exit(1)
	}
	b, err := nats.Connect(url)
	if err != nil {
		fmt.Println("connect:", err)
		os.Exit(1)
	}
	b.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	b.Flush()
	for i := 0; i < 1000; i++ { // warm-up
		a.Request("svc", []byte("hi"), time.Second)
	}
	lat := make([]float64, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := a.Request("svc", []byte("hi"), time.Second); err != nil {
			fmt.Println("request:", err)
			os.Exit(1)
		}
		lat[i] = float64(time.Since(t0).Microseconds())
	}
	sort.Float64s(lat)
	fmt.Printf("{\"count\":%d,\"rtt_p50_us\":%.0f,\"rtt_p99_us\":%.0f,\"rtt_p999_us\":%.0f}\n",
		n, lat[n/2], lat[n*99/100], lat[n*999/1000])
}
