package checks

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzDNSAnswer: any datagram is either not an answer to the query, or an
// answer whose verdict agrees with its header: ours exactly when the first
// 12 bytes carry the id with QR set, ok exactly when the rcode is 0.
func FuzzDNSAnswer(f *testing.F) {
	pack := func(m dnsmessage.Message) []byte {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	name := dnsmessage.MustNewName("example.org.")
	q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET}
	f.Add(pack(dnsmessage.Message{Header: dnsmessage.Header{ID: 7, Response: true}, Questions: []dnsmessage.Question{q}}), uint16(7))
	f.Add(pack(dnsmessage.Message{Header: dnsmessage.Header{ID: 7, Response: true, RCode: dnsmessage.RCodeNameError}, Questions: []dnsmessage.Question{q}}), uint16(7))
	f.Add(pack(dnsmessage.Message{Header: dnsmessage.Header{ID: 7}, Questions: []dnsmessage.Question{q}}), uint16(7))
	f.Add(pack(dnsmessage.Message{Header: dnsmessage.Header{ID: 8, Response: true}, Questions: []dnsmessage.Question{q},
		Answers: []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: 60},
			Body: &dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}}}}}), uint16(8))
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0, 7, 0x80, 0x0f, 0, 0, 0, 0, 0, 0, 0}, uint16(7))
	f.Fuzz(func(t *testing.T, b []byte, id uint16) {
		ours, reason := dnsAnswer(b, id)
		wantOurs := len(b) >= 12 && binary.BigEndian.Uint16(b) == id && b[2]&0x80 != 0
		if ours != wantOurs {
			t.Fatalf("dnsAnswer(%x, %d): ours %v, want %v", b, id, ours, wantOurs)
		}
		if !ours {
			if reason != "" {
				t.Fatalf("not ours but reason %q", reason)
			}
			return
		}
		rcode := b[3] & 0x0f
		if (reason == "") != (rcode == 0) || (rcode != 0 && !strings.HasPrefix(reason, "rcode ")) {
			t.Fatalf("rcode %d: reason %q", rcode, reason)
		}
	})
}

// FuzzHTTPResponse sends arbitrary bytes as the answer of a loopback HTTP
// server to an HTTP check (status 200 and a body digest): the check never
// panics, ends promptly (the server closes after writing), and passes only
// on a response that says 200 and whose body has the digest.
func FuzzHTTPResponse(f *testing.F) {
	const body = "ok\n"
	sum := md5.Sum([]byte(body))
	digest := hex.EncodeToString(sum[:])
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + body))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\n" + body))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + body))
	f.Add([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n" + body))
	f.Add([]byte("HTTP/1.1 301 Moved\r\nLocation: http://192.0.2.1/\r\n\r\n"))
	f.Add([]byte("SSH-2.0-OpenSSH_9.2\r\n"))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var resp []byte
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			r := resp
			mu.Unlock()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = c.Write(r)
			}()
		}
	}()
	target := netip.MustParseAddrPort(l.Addr().String())
	c, err := NewHTTPChecker(HTTPConfig{Target: target, Path: "/health", Digest: digest, Timeout: 20 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mu.Lock()
		resp = data
		mu.Unlock()
		res := c.Check(context.Background())
		if res.Reason == ReasonTimeout {
			t.Fatalf("check of %q timed out after %v though the server closed", data, res.Duration)
		}
		if res.OK && !strings.Contains(string(data), " 200") {
			t.Fatalf("check passed on %q", data)
		}
		if !res.OK && res.Reason == "" {
			t.Fatalf("check of %q failed without a reason", data)
		}
	})
}
