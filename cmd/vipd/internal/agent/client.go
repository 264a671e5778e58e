package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Bounds on what the client reads from the socket: whatever answers there
// (a wedged agent, another program on a reused path) cannot make the CLI
// read without end. A status of 1,000 instances and services is ~1 MiB.
const (
	maxReplyBytes       = 16 << 20
	maxReplyHeaderBytes = 64 << 10
)

func socketClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxResponseHeaderBytes: maxReplyHeaderBytes,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		Proxy:                  nil,
	}}
}

// RequestReload asks the agent listening on the unix socket at path to
// re-read its configuration and apply it. A refused reload (the agent
// answers 422) returns its problems in the reply and no error.
func RequestReload(ctx context.Context, path string) (ReloadReply, error) {
	var rep ReloadReply
	err := call(ctx, path, "reload", http.MethodPost, []int{http.StatusOK, http.StatusUnprocessableEntity}, maxReplyBytes, &rep)
	return rep, err
}

// FetchStatus asks the agent listening on the unix socket at path for its
// status.
func FetchStatus(ctx context.Context, path string) (Status, error) {
	var st Status
	if err := call(ctx, path, "status", http.MethodGet, []int{http.StatusOK}, maxReplyBytes, &st); err != nil {
		return Status{}, err
	}
	return st, nil
}

// call sends method /op on the socket at path and decodes the JSON reply
// into v. Every error starts with op and says what went wrong: the
// connection, the status code (with the start of the body), or the body
// (not JSON, truncated, trailing data, larger than limit bytes).
func call(ctx context.Context, path, op, method string, codes []int, limit int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://vipd/"+op, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	resp, err := socketClient(path).Do(req)
	if err != nil {
		return fmt.Errorf("%s: is vipd running? connect %s: %w", op, path, err)
	}
	defer resp.Body.Close()
	body := &limitedReader{r: resp.Body, n: limit, limit: limit}
	okCode := false
	for _, c := range codes {
		okCode = okCode || resp.StatusCode == c
	}
	if !okCode {
		b, _ := io.ReadAll(io.LimitReader(body, 256))
		msg := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
		if msg != "" {
			return fmt.Errorf("%s: agent answered %s: %q", op, resp.Status, msg)
		}
		return fmt.Errorf("%s: agent answered %s", op, resp.Status)
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: decode the agent's answer: %w", op, body.why(err))
	}
	// One JSON value and nothing after it but white space.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
		return fmt.Errorf("%s: decode the agent's answer: %w", op, body.why(err))
	}
	return nil
}

// limitedReader is io.LimitReader that remembers it hit the limit, so the
// error says so rather than "unexpected EOF".
type limitedReader struct {
	r        io.Reader
	n, limit int64
	hit      bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 && err != nil {
			return 0, err // exactly at the limit: the real end
		}
		l.hit = true
		return 0, l.tooLarge()
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func (l *limitedReader) why(err error) error {
	if l.hit {
		return l.tooLarge()
	}
	return err
}

func (l *limitedReader) tooLarge() error {
	return fmt.Errorf("answer larger than %d bytes", l.limit)
}
