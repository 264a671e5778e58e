package checks_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/vipd/vipd/checks"
)

// A TCP_CHECK with rise/fall, as lvs/ or a VRRP track script would use it.
func ExampleScheduler() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := checks.NewScheduler(log, checks.WithJitter(false))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx) }()

	up := make(chan checks.State, 1)
	tcp := checks.NewTCPChecker(ln.Addr().(*net.TCPAddr).AddrPort())
	tcp.Timeout = time.Second
	s.Add("rs1", tcp, checks.Params{Interval: 10 * time.Millisecond, Rise: 2, Fall: 3},
		func(id string, st checks.State) { up <- st })
	st := <-up
	fmt.Println("rs1 up:", st.Up)

	// Output: rs1 up: true
}
