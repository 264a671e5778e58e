package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rawServer answers every connection on a unix socket with whatever reply
// holds (after reading the request head), then closes it: an agent, or
// anything else listening on the socket path, that sends arbitrary bytes.
type rawServer struct {
	path string
	l    net.Listener
	mu   sync.Mutex
	resp []byte
}

func newRawServer(tb testing.TB) *rawServer {
	tb.Helper()
	dir, err := tempSocketDir(tb)
	if err != nil {
		tb.Fatal(err)
	}
	s := &rawServer{path: filepath.Join(dir, "s.sock")}
	s.l, err = net.Listen("unix", s.path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.l.Close() })
	go func() {
		for {
			c, err := s.l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			resp := s.resp
			s.mu.Unlock()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				for { // the request head, up to its blank line
					l, err := r.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				_, _ = c.Write(resp)
			}()
		}
	}()
	return s
}

func (s *rawServer) reply(b []byte) {
	s.mu.Lock()
	s.resp = b
	s.mu.Unlock()
}

// tempSocketDir is a short directory for a unix socket (the path limit is
// 108 bytes; t.TempDir under a long test name can exceed it).
func tempSocketDir(tb testing.TB) (string, error) {
	d := tb.TempDir()
	if len(d) < 80 {
		return d, nil
	}
	return "", fmt.Errorf("temp dir %q too long for a unix socket", d)
}

func httpReply(code int, body string) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
}

func TestClientReplies(t *testing.T) {
	s := newRawServer(t)
	tests := []struct {
		name      string
		resp      []byte
		want      Status
		wantErr   string // substring; "" = success
		reload    ReloadReply
		reloadErr string
	}{
		{name: "ok", resp: httpReply(200, `{"node":"n1","instances":[{"name":"vi","vrid":7}]}`),
			want:   Status{Node: "n1", Instances: []InstanceStatus{{Name: "vi", VRID: 7}}},
			reload: ReloadReply{}},
		{name: "refused reload", resp: httpReply(422, `{"problems":["a","b"]}`),
			wantErr: "status: agent answered 422 Unprocessable Entity", reload: ReloadReply{Problems: []string{"a", "b"}}},
		{name: "server error with text", resp: httpReply(500, "boom\n"),
			wantErr: `status: agent answered 500 Internal Server Error: "boom"`, reloadErr: `reload: agent answered 500 Internal Server Error: "boom"`},
		{name: "not json", resp: httpReply(200, "<html>"),
			wantErr: "status: decode the agent's answer: invalid character", reloadErr: "reload: decode the agent's answer: invalid character"},
		{name: "truncated", resp: []byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"node\":"),
			wantErr: "status: decode the agent's answer: unexpected EOF", reloadErr: "reload: decode the agent's answer: unexpected EOF"},
		{name: "trailing data", resp: httpReply(200, `{} {}`),
			wantErr: "trailing data", reloadErr: "trailing data"},
		{name: "wrong type", resp: httpReply(200, `[1]`),
			wantErr: "status: decode the agent's answer: json: cannot unmarshal", reloadErr: "reload: decode the agent's answer: json: cannot unmarshal"},
		{name: "huge header", resp: []byte("HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", 2*maxReplyHeaderBytes) + "\r\n\r\n{}"),
			wantErr: "status: is vipd running?", reloadErr: "reload: is vipd running?"},
		{name: "garbage", resp: []byte("\x00\x01SSH-2.0-OpenSSH\r\n"),
			wantErr: "malformed HTTP", reloadErr: "malformed HTTP"},
		{name: "nothing", resp: nil, wantErr: "status: is vipd running?", reloadErr: "reload: is vipd running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.reply(tt.resp)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			st, err := FetchStatus(ctx, s.path)
			checkErr(t, "FetchStatus", err, tt.wantErr)
			if diff := cmp.Diff(tt.want, st); err == nil && diff != "" {
				t.Errorf("FetchStatus (-want +got):\n%s", diff)
			}
			rep, err := RequestReload(ctx, s.path)
			checkErr(t, "RequestReload", err, tt.reloadErr)
			if diff := cmp.Diff(tt.reload, rep); err == nil && diff != "" {
				t.Errorf("RequestReload (-want +got):\n%s", diff)
			}
		})
	}
}

func checkErr(t *testing.T, op string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", op, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one containing %q", op, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q, want one containing %q", op, err, want)
	}
}

// FuzzClient: whatever answers on the socket, FetchStatus and
// RequestReload return promptly, without panicking, with an error that
// names the operation, or with a reply that the body really held. raw
// sends data as is; otherwise it is the body of an HTTP reply with code.
func FuzzClient(f *testing.F) {
	st, _ := json.Marshal(Status{Node: "n1", Version: "v1", StartedAt: time.Unix(1e9, 0).UTC(),
		Instances: []InstanceStatus{{Name: "vi_1", Interface: "eth0", VRID: 51, Version: 3, State: "MASTER",
			Priority: 150, EffectivePriority: 140, VIPs: []string{"192.0.2.100/32"}, Drops: map[string]int64{"auth": 3},
			Tracks: []TrackStatus{{Name: "chk", Kind: "script", Weight: -10}}}},
		Services: []ServiceStatus{{Name: "web"}}, Drops: map[string]int64{"checksum": 1}})
	f.Add(st, uint16(200), false)
	f.Add([]byte(`{"summary":"1 instance changed","problems":["x"]}`), uint16(422), false)
	f.Add([]byte(`{"node":1e999}`), uint16(200), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n"), uint16(0), true)
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\n{}"), uint16(0), true)
	f.Add([]byte("garbage"), uint16(0), true)
	s := newRawServer(f)
	f.Fuzz(func(t *testing.T, data []byte, code uint16, raw bool) {
		resp := data
		if !raw {
			resp = fmt.Appendf(nil, "HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s", code, len(data), data)
		}
		s.reply(resp)
		// The server closes after writing: every call ends at once; the
		// bound only catches a client that would hang.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		start := time.Now()
		st, err := FetchStatus(ctx, s.path)
		if err != nil && !strings.HasPrefix(err.Error(), "status: ") {
			t.Fatalf("FetchStatus error %q does not name the operation", err)
		}
		// (A 1xx code is informational: the client reads the next reply,
		// which then comes from data.)
		if err == nil && !raw && code >= 200 && !json.Valid(bytes.TrimSpace(data)) {
			t.Fatalf("FetchStatus accepted %q as %+v", data, st)
		}
		_, err = RequestReload(ctx, s.path)
		if err != nil && !strings.HasPrefix(err.Error(), "reload: ") {
			t.Fatalf("RequestReload error %q does not name the operation", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("client still reading after %v", time.Since(start))
		}
	})
}

// TestClientReplyLimit: a body up to the limit decodes; one byte more is
// refused as too large (the real limit is 16 MiB; 1 KiB here keeps the
// test fast).
func TestClientReplyLimit(t *testing.T) {
	s := newRawServer(t)
	const limit = 1024
	body := func(n int) string { return `{"node":"` + strings.Repeat("x", n-len(`{"node":""}`)) + `"}` }
	for _, tt := range []struct {
		size    int
		wantErr string
	}{{limit, ""}, {limit + 1, "status: decode the agent's answer: answer larger than 1024 bytes"}} {
		s.reply(httpReply(200, body(tt.size)))
		var st Status
		err := call(t.Context(), s.path, "status", http.MethodGet, []int{http.StatusOK}, limit, &st)
		checkErr(t, fmt.Sprintf("%d bytes", tt.size), err, tt.wantErr)
		if err == nil && len(st.Node) != tt.size-len(`{"node":""}`) {
			t.Errorf("%d bytes: node of %d bytes", tt.size, len(st.Node))
		}
	}
}
