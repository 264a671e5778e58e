package alert

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeSink records every attempt; it fails while fail() says so and, when
// hold is set, blocks each delivery until hold is closed or ctx ends.
type fakeSink struct {
	mu       sync.Mutex
	attempts []time.Time
	sent     []string // subjects delivered
	fail     func(n int) bool
	hold     chan struct{}
}

var _ sink = (*fakeSink)(nil)

func (f *fakeSink) name() string { return "fake" }

func (f *fakeSink) deliver(ctx context.Context, m Message) error {
	f.mu.Lock()
	f.attempts = append(f.attempts, time.Now())
	n := len(f.attempts)
	f.mu.Unlock()
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail != nil && f.fail(n) {
		return errors.New("fake failure")
	}
	f.mu.Lock()
	f.sent = append(f.sent, m.Event.Name)
	f.mu.Unlock()
	return nil
}

func (f *fakeSink) got() ([]time.Time, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempts...), append([]string(nil), f.sent...)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ev(name string, s State) Event { return Event{Kind: KindInstance, Name: name, State: s} }

// start runs n until the test's bubble ends it.
func start(t *testing.T, n *Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// TestRetryBackoff: a sink that always fails is tried exactly Attempts
// times, Backoff, 2·Backoff, 4·Backoff apart (capped at MaxBackoff), then
// the message is counted as failed and the next one goes out.
func TestRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSink{fail: func(n int) bool { return n <= 5 }}
		n := newNotifier(Config{RouterID: "lb1", Attempts: 5, Backoff: time.Second, MaxBackoff: 3 * time.Second, DrainTimeout: -1}, discard(), f)
		stop := start(t, n)
		t0 := time.Now()
		n.Send(ev("VI_1", StateMaster))
		n.Send(ev("VI_2", StateMaster))
		time.Sleep(time.Hour)
		synctest.Wait()
		attempts, sent := f.got()
		var offs []time.Duration
		for _, a := range attempts {
			offs = append(offs, a.Sub(t0))
		}
		// VI_1: 0, 1s, 3s (1+2), 6s (+3, capped), 9s; VI_2 right after.
		want := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second, 9 * time.Second, 9 * time.Second}
		if diff := cmp.Diff(want, offs); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"VI_2"}, sent); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
		stop()
		if diff := cmp.Diff(Stats{Queued: 2, Sent: 1, Retried: 4, Failed: 1}, n.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

// TestQueueDropsOldest: while the worker is stuck on one message, Send
// keeps returning at once; a full queue drops its oldest entries.
func TestQueueDropsOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSink{hold: make(chan struct{})}
		n := newNotifier(Config{QueueSize: 2, DrainTimeout: -1}, discard(), f)
		stop := start(t, n)
		n.Send(ev("first", StateMaster))
		synctest.Wait() // the worker is blocked delivering "first"
		t0 := time.Now()
		for _, name := range []string{"a", "b", "c", "d"} {
			n.Send(ev(name, StateMaster))
		}
		if el := time.Since(t0); el != 0 {
			t.Errorf("Send blocked for %v with a stuck sink", el)
		}
		close(f.hold)
		synctest.Wait()
		_, sent := f.got()
		if diff := cmp.Diff([]string{"first", "c", "d"}, sent); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
		stop()
		if diff := cmp.Diff(Stats{Queued: 5, Sent: 3, Dropped: 2}, n.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

// TestSuppress: the same state twice for one object is sent once, as
// keepalived's last_email_state; FAULT is dropped with NoFaultAlerts.
func TestSuppress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSink{}
		n := newNotifier(Config{NoFaultAlerts: true, DrainTimeout: -1}, discard(), f)
		stop := start(t, n)
		n.Send(ev("VI_1", StateMaster))
		n.Send(ev("VI_1", StateMaster))
		n.Send(ev("VI_1", StateFault))
		n.Send(ev("VI_2", StateMaster))
		n.Send(ev("VI_1", StateBackup))
		n.Send(Event{Kind: KindSyncGroup, Name: "VI_1", State: StateBackup}) // another object
		synctest.Wait()
		stop()
		_, sent := f.got()
		if diff := cmp.Diff([]string{"VI_1", "VI_2", "VI_1", "VI_1"}, sent); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
		if got := n.Stats().Suppressed; got != 2 {
			t.Errorf("Suppressed = %d, want 2", got)
		}
	})
}

// TestDrainOnStop: messages queued when Run's ctx ends get one attempt
// within DrainTimeout; what does not fit is dropped, and Run returns by
// then even with a sink that never answers.
func TestDrainOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSink{}
		n := newNotifier(Config{DrainTimeout: 5 * time.Second}, discard(), f)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		n.Send(ev("VI_1", StateStop)) // queued before Run: drained
		if err := n.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if _, sent := f.got(); !cmp.Equal(sent, []string{"VI_1"}) {
			t.Errorf("delivered %v, want [VI_1]", sent)
		}

		stuck := &fakeSink{hold: make(chan struct{})}
		n = newNotifier(Config{DrainTimeout: 5 * time.Second}, discard(), stuck)
		n.Send(ev("a", StateStop))
		n.Send(ev("b", StateStop))
		t0 := time.Now()
		_ = n.Run(ctx)
		if el := time.Since(t0); el != 5*time.Second {
			t.Errorf("Run returned after %v, want DrainTimeout 5s", el)
		}
		if diff := cmp.Diff(Stats{Queued: 2, Failed: 1, Dropped: 1}, n.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"nothing", Config{}},
		{"no server", Config{SMTP: &SMTPConfig{From: "a@b", To: []string{"c@d"}}}},
		{"bad from", Config{SMTP: &SMTPConfig{Server: "mx", From: "not an address", To: []string{"c@d"}}}},
		{"no to", Config{SMTP: &SMTPConfig{Server: "mx", From: "a@b"}}},
		{"bad url", Config{Webhook: &WebhookConfig{URL: "ftp://x"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, discard()); err == nil {
				t.Error("New() = nil error, want one")
			}
		})
	}
}
