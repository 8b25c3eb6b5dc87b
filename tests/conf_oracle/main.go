// conf_oracle: dumps nats-server's own conf package result (ParseFileWithChecks)
// in the canonical form printed by tests/unit/conf_dump.c, for differential tests.
// Build: GOPATH=/usr/share/gocode GO111MODULE=off go build -o conf_oracle .
package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats-server/conf"
)

type tok interface {
	Value() interface{}
	Line() int
	IsUsedVariable() bool
	SourceFile() string
	Position() int
}

func quote(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			fmt.Fprintf(b, "\\x%02x", c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

func dump(b *bytes.Buffer, v interface{}) {
	pos := "-"
	if t, ok := v.(tok); ok {
		u := 0
		if t.IsUsedVariable() {
			u = 1
		}
		pos = fmt.Sprintf("%s:%d:%d:%d", t.SourceFile(), t.Line(), t.Position(), u)
		v = t.Value()
	}
	switch x := v.(type) {
	case string:
		fmt.Fprintf(b, "S(%s)", pos)
		quote(b, x)
	case int64:
		fmt.Fprintf(b, "I(%s)%d", pos, x)
	case float64:
		fmt.Fprintf(b, "F(%s)%016x", pos, math.Float64bits(x))
	case bool:
		fmt.Fprintf(b, "B(%s)%v", pos, x)
	case time.Time:
		fmt.Fprintf(b, "D(%s)%d", pos, x.Unix())
	case []interface{}:
		fmt.Fprintf(b, "A(%s)[", pos)
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			dump(b, e)
		}
		b.WriteByte(']')
	case map[string]interface{}:
		fmt.Fprintf(b, "M(%s){", pos)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(b, k)
			b.WriteByte('=')
			dump(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "?%T", v)
	}
}

func main() {
	for _, f := range os.Args[1:] {
		m, err := conf.ParseFileWithChecks(f)
		if err != nil {
			fmt.Println("ERR:", string(bytes.ReplaceAll([]byte(err.Error()), []byte{0}, nil)))
			continue
		}
		var b bytes.Buffer
		dump(&b, m)
		fmt.Println(b.String())
	}
}
