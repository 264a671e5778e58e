package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	grow := Backoff{Initial: 100 * ms, Max: 10 * time.Second, Multiplier: 2}
	tests := []struct {
		name    string
		b       Backoff
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{name: "first", b: grow, attempt: 1, want: 100 * ms},
		{name: "second doubles", b: grow, attempt: 2, want: 200 * ms},
		{name: "fifth", b: grow, attempt: 5, want: 1600 * ms},
		{name: "attempt 0 is the first", b: grow, attempt: 0, want: 100 * ms},
		{name: "negative attempt is the first", b: grow, attempt: -3, want: 100 * ms},
		{name: "capped", b: grow, attempt: 8, want: 10 * time.Second}, // 12.8s → 10s
		{name: "capped far out", b: grow, attempt: 10_000, want: 10 * time.Second},
		{name: "multiplier 1 is constant", b: Backoff{Initial: 300 * ms, Max: time.Second, Multiplier: 1}, attempt: 7, want: 300 * ms},
		{name: "default first", b: DefaultBackoff, attempt: 1, rnd: 0, want: 100 * ms}, // 200ms, half jittered away
		{name: "default capped", b: DefaultBackoff, attempt: 50, rnd: 0.5, want: 7500 * ms},

		// Jitter: d*(1-j) + d*j*rnd, so d*(1-j) <= delay < d.
		{name: "jitter rnd 0 is the floor", b: withJitter(grow, 0.5), attempt: 2, rnd: 0, want: 100 * ms},
		{name: "jitter rnd 0.5", b: withJitter(grow, 0.5), attempt: 2, rnd: 0.5, want: 150 * ms},
		{name: "full jitter rnd 0", b: withJitter(grow, 1), attempt: 3, rnd: 0, want: 0},
		{name: "full jitter rnd 0.25", b: withJitter(grow, 1), attempt: 3, rnd: 0.25, want: 100 * ms},
		{name: "jitter above 1 is 1", b: withJitter(grow, 7), attempt: 3, rnd: 0.25, want: 100 * ms},
		{name: "negative jitter is 0", b: withJitter(grow, -1), attempt: 3, rnd: 0.25, want: 400 * ms},
		{name: "jitter applies to the cap", b: withJitter(grow, 0.5), attempt: 20, rnd: 0, want: 5 * time.Second},

		{
			name: "max 0 means no cap", b: Backoff{Initial: time.Second, Multiplier: 2}, attempt: 4, want: 8 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.b.Delay(tt.attempt, func() float64 { return tt.rnd })
			if got != tt.want {
				t.Errorf("%+v.Delay(%d, %v) = %v, want %v", tt.b, tt.attempt, tt.rnd, got, tt.want)
			}
		})
	}
}

func withJitter(b Backoff, j float64) Backoff {
	b.Jitter = j
	return b
}

// TestBackoffJitterBounds sweeps rnd over [0,1) for every attempt and checks
// each delay stays within [base*(1-jitter), base] and never exceeds Max.
func TestBackoffJitterBounds(t *testing.T) {
	for _, j := range []float64{0, 0.1, 0.5, 1} {
		b := Backoff{Initial: 50 * time.Millisecond, Max: 2 * time.Second, Multiplier: 1.7, Jitter: j}
		for attempt := 1; attempt <= 15; attempt++ {
			base := b.Delay(attempt, func() float64 { return 1 }) // rnd=1 is the un-jittered base
			if base > b.Max {
				t.Errorf("jitter %v attempt %d: base %v above Max %v", j, attempt, base, b.Max)
			}
			lo := time.Duration(float64(base) * (1 - j))
			for _, r := range []float64{0, 0.01, 0.33, 0.5, 0.99, 0.999999} {
				d := b.Delay(attempt, func() float64 { return r })
				if d < lo-1 || d > base {
					t.Errorf("jitter %v attempt %d rnd %v: delay %v outside [%v, %v]", j, attempt, r, d, lo, base)
				}
			}
		}
	}
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the logged lines, each decoded, without the time key.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		delete(m, "time")
		out = append(out, m)
	}
	return out
}

func newLog() (*slog.Logger, *logBuffer) {
	var buf logBuffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

// fast keeps the retry tests quick; Jitter 0 makes the waits exact.
var fast = Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2}

func TestRetry(t *testing.T) {
	throttled := &CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "req-1", Code: "RequestLimitExceeded", HTTPCode: 503, Retryable: true, Err: errors.New("slow down")}
	denied := &CallError{Provider: "aliyun", Action: "AssociateHaVipAddress", RequestID: "req-2", Code: "Forbidden.RAM", HTTPCode: 403, Retryable: false, Err: errors.New("no permission")}
	plain := errors.New("bad parameter")

	tests := []struct {
		name      string
		results   []error // what fn returns on each call; nil after the end
		wantErr   error
		wantCalls int
		wantLogs  []map[string]any
	}{
		{
			name:      "success at once",
			results:   []error{nil},
			wantCalls: 1,
		},
		{
			name:      "retryable CallError is retried",
			results:   []error{throttled, throttled, nil},
			wantCalls: 3,
			wantLogs: []map[string]any{
				{"level": "WARN", "msg": "provider call failed", "op": "assign", "attempt": 1.0, "retry": true, "err": throttled.Error(),
					"action": "AssignPrivateIpAddresses", "request_id": "req-1", "code": "RequestLimitExceeded"},
				{"level": "WARN", "msg": "provider call failed", "op": "assign", "attempt": 2.0, "retry": true, "err": throttled.Error(),
					"action": "AssignPrivateIpAddresses", "request_id": "req-1", "code": "RequestLimitExceeded"},
				{"level": "INFO", "msg": "provider call succeeded after retries", "op": "assign", "attempts": 3.0},
			},
		},
		{
			name:      "non-retryable CallError stops",
			results:   []error{denied, nil},
			wantErr:   denied,
			wantCalls: 1,
			wantLogs: []map[string]any{
				{"level": "WARN", "msg": "provider call failed", "op": "assign", "attempt": 1.0, "retry": false, "err": denied.Error(),
					"action": "AssociateHaVipAddress", "request_id": "req-2", "code": "Forbidden.RAM"},
			},
		},
		{
			name:      "plain error is not retried",
			results:   []error{plain, nil},
			wantErr:   plain,
			wantCalls: 1,
			wantLogs: []map[string]any{
				{"level": "WARN", "msg": "provider call failed", "op": "assign", "attempt": 1.0, "retry": false, "err": "bad parameter"},
			},
		},
		{
			name:      "deadline on one call is retried",
			results:   []error{context.DeadlineExceeded, nil},
			wantCalls: 2,
			wantLogs: []map[string]any{
				{"level": "WARN", "msg": "provider call failed", "op": "assign", "attempt": 1.0, "retry": true, "err": "context deadline exceeded"},
				{"level": "INFO", "msg": "provider call succeeded after retries", "op": "assign", "attempts": 2.0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newLog()
			calls := 0
			err := Retry(context.Background(), log, fast, 0, "assign", func(context.Context) error {
				calls++
				if calls > len(tt.results) {
					return nil
				}
				return tt.results[calls-1]
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Retry = %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantLogs, buf.records(t)); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryStopsOnContextEnd(t *testing.T) {
	throttled := &CallError{Provider: "tencent", Action: "AssignPrivateIpAddresses", Code: "RequestLimitExceeded", Retryable: true, Err: errors.New("slow down")}
	tests := []struct {
		name string
		b    Backoff
	}{
		// The backoff wait is far longer than the ctx: Retry must not sit it out.
		{"during a long backoff", Backoff{Initial: time.Hour, Max: time.Hour, Multiplier: 2}},
		{"with short backoffs", fast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, _ := newLog()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			calls := 0
			err := Retry(ctx, log, tt.b, 0, "assign", func(context.Context) error {
				calls++
				return throttled
			})
			el := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Retry = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if err == nil || !strings.Contains(err.Error(), "assign: gave up after") || !strings.Contains(err.Error(), "slow down") {
				t.Errorf("Retry = %v, want op, attempts and the last error in the message", err)
			}
			if el > time.Second {
				t.Errorf("Retry returned %v after start, want soon after the 50ms ctx", el)
			}
			if calls < 1 {
				t.Errorf("fn called %d times, want at least once", calls)
			}
		})
	}
}

func TestRetryPerCallTimeout(t *testing.T) {
	tests := []struct {
		name        string
		callTimeout time.Duration
		wantCalls   int
	}{
		// The first call blocks until its own deadline, the second succeeds.
		{"timeout set", 30 * time.Millisecond, 2},
		// No per-call deadline: fn sees the parent ctx, which has none.
		{"no timeout", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, _ := newLog()
			parent, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			parentDL, _ := parent.Deadline()
			var got []time.Duration // each call's deadline, relative to its start
			calls := 0
			err := Retry(parent, log, fast, tt.callTimeout, "assign", func(ctx context.Context) error {
				calls++
				dl, _ := ctx.Deadline()
				got = append(got, time.Until(dl))
				if tt.callTimeout > 0 && calls == 1 {
					<-ctx.Done() // a hung API call
					return ctx.Err()
				}
				if tt.callTimeout == 0 && !dl.Equal(parentDL) {
					t.Errorf("call deadline %v, want the parent's %v", dl, parentDL)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Retry: %v", err)
			}
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.callTimeout > 0 {
				for i, d := range got {
					if d > tt.callTimeout || d < tt.callTimeout-20*time.Millisecond {
						t.Errorf("call %d: deadline in %v, want ≈ %v", i+1, d, tt.callTimeout)
					}
				}
			}
		})
	}
}
