package checks

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

type okChecker struct{}

func (okChecker) Check(context.Context) Result { return Result{OK: true} }
func (okChecker) String() string               { return "ok" }

// The monitor sleeps while no attempt can overrun: no periodic wake-up when
// idle, at most a couple of looks per attempt, and an overrunning attempt
// is still abandoned at its timeout + grace.
func TestSchedulerMonitorWakesOnlyForDeadlines(t *testing.T) {
	const (
		interval = time.Second
		timeout  = 500 * time.Millisecond
		grace    = 100 * time.Millisecond
		span     = time.Minute
	)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := NewScheduler(nopLog(), WithJitter(false), WithWorkers(2), WithGrace(grace))
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()

		// No checks: nothing wakes the monitor.
		time.Sleep(span)
		synctest.Wait()
		if n := s.monitorScans.Load(); n != 0 {
			t.Errorf("idle scheduler: monitor looked %d times in %v, want 0", n, span)
		}

		// A check that returns at once, every second: at most two looks per
		// attempt (one kick, one at the deadline), not one per tick.
		s.Add("ok", okChecker{}, Params{Interval: interval, Timeout: timeout, InitialUp: true}, func(string, State) {})
		time.Sleep(span)
		synctest.Wait()
		attempts := int64(span / interval)
		if n := s.monitorScans.Load(); n > 2*attempts+2 {
			t.Errorf("monitor looked %d times for %d attempts, want at most %d", n, attempts, 2*attempts+2)
		}
		s.Remove("ok")

		// A hanging check is abandoned at timeout + grace (+1ms: the
		// monitor looks just after the deadline).
		release := make(chan struct{})
		defer close(release)
		got := make(chan State, 1)
		start := time.Now()
		s.Add("hang", hangChecker{release}, Params{Interval: time.Hour, Timeout: timeout, InitialUp: true},
			func(_ string, st State) { got <- st })
		st := <-got
		if el, want := time.Since(start), timeout+grace+time.Millisecond; st.Reason != ReasonTimeout || el != want {
			t.Errorf("hang: reason %q after %v, want %q after %v", st.Reason, el, ReasonTimeout, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
