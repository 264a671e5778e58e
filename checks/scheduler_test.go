package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func nopLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// seqChecker returns results from a script, then repeats the last one; it
// records when each attempt started. Reason carries the attempt number.
type seqChecker struct {
	mu     sync.Mutex
	seq    []bool
	weight []*int
	sleep  time.Duration
	starts []time.Time
}

func (c *seqChecker) String() string { return "seq" }

func (c *seqChecker) Check(ctx context.Context) Result {
	c.mu.Lock()
	n := len(c.starts)
	c.starts = append(c.starts, time.Now())
	okv := c.seq[min(n, len(c.seq)-1)]
	var w *int
	if c.weight != nil {
		w = c.weight[min(n, len(c.weight)-1)]
	}
	c.mu.Unlock()
	if c.sleep > 0 {
		select {
		case <-time.After(c.sleep):
		case <-ctx.Done():
		}
	}
	return Result{OK: okv, Reason: fmt.Sprintf("r%d", n), Weight: w}
}

func (c *seqChecker) calls() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.starts...)
}

// waitCalls waits until c has run n times (bounded).
func waitCalls(t *testing.T, c *seqChecker, n int, within time.Duration) []time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if got := c.calls(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("checker ran %d times within %v, want %d", len(c.calls()), within, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run starts s and stops it at the end of the test.
func run(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
}

type note struct {
	Up     bool
	Reason string // the Reason of the last result (attempt number)
	Weight *int
}

type recorder struct {
	mu    sync.Mutex
	notes []note
	busy  bool
	races int
}

func (r *recorder) notify(_ string, s State) {
	r.mu.Lock()
	if r.busy {
		r.races++
	}
	r.busy = true
	r.notes = append(r.notes, note{Up: s.Up, Reason: s.LastResult.Reason, Weight: s.Weight})
	r.mu.Unlock()
	time.Sleep(time.Millisecond)
	r.mu.Lock()
	r.busy = false
	r.mu.Unlock()
}

func (r *recorder) get() []note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]note(nil), r.notes...)
}

func TestSchedulerRiseFall(t *testing.T) {
	F, T := false, true
	tests := []struct {
		name string
		p    Params
		seq  []bool
		want []note
	}{
		{"rise 2 fall 3", Params{Rise: 2, Fall: 3},
			[]bool{F, F, T, F, T, T, T, F, F, T, F, F, F, F},
			[]note{{Up: true, Reason: "r5"}, {Up: false, Reason: "r12"}}},
		{"initial up, fall 1", Params{Fall: 1, InitialUp: true},
			[]bool{T, T, F, T, T},
			[]note{{Up: false, Reason: "r2"}, {Up: true, Reason: "r3"}}},
		{"initial down, rise 1", Params{},
			[]bool{F, F, T, T},
			[]note{{Up: true, Reason: "r2"}}},
		{"initial up, never fails: no notification", Params{InitialUp: true},
			[]bool{T}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := NewScheduler(nopLog(), WithJitter(false))
				c := &seqChecker{seq: tt.seq}
				var rec recorder
				p := tt.p
				p.Interval = 5 * time.Millisecond
				s.Add("a", c, p, rec.notify)
				run(t, s)
				waitCalls(t, c, len(tt.seq)+3, 5*time.Second)
				s.Remove("a")
				if diff := cmp.Diff(tt.want, rec.get()); diff != "" {
					t.Errorf("notifications (-want +got):\n%s", diff)
				}
				if rec.races != 0 {
					t.Errorf("notify ran concurrently %d times", rec.races)
				}
			})
		})
	}
}

func TestSchedulerState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog(), WithJitter(false))
		if _, found := s.State("x"); found {
			t.Fatal("State of unknown id found")
		}
		c := &seqChecker{seq: []bool{false}}
		changed := make(chan State, 4)
		s.Add("x", c, Params{Interval: 10 * time.Millisecond, InitialUp: true}, func(_ string, st State) { changed <- st })
		st, found := s.State("x")
		if !found || !st.Up {
			t.Fatalf("State before first run = %+v, %v; want up (InitialUp)", st, found)
		}
		run(t, s)
		select {
		case st := <-changed:
			if st.Up || st.Reason != "r0" || st.Since.IsZero() {
				t.Errorf("notified state = %+v, want down with reason r0", st)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no notification")
		}
		st, _ = s.State("x")
		if st.Up || st.Reason != "r0" || st.LastResult.OK {
			t.Errorf("State = %+v, want down, reason r0", st)
		}
	})
}

func TestSchedulerRetry(t *testing.T) {
	t.Run("all attempts fail", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := NewScheduler(nopLog(), WithJitter(false))
			c := &seqChecker{seq: []bool{false}}
			var rec recorder
			s.Add("r", c, Params{Interval: time.Hour, Retry: 2, DelayBeforeRetry: 40 * time.Millisecond, InitialUp: true}, rec.notify)
			run(t, s)
			calls := waitCalls(t, c, 3, 5*time.Second)
			time.Sleep(100 * time.Millisecond) // no 4th attempt: the next cycle is an hour away
			if n := len(c.calls()); n != 3 {
				t.Errorf("attempts = %d, want 3 (1 + retry 2)", n)
			}
			for i := 1; i < len(calls); i++ {
				if gap := calls[i].Sub(calls[i-1]); gap < 40*time.Millisecond {
					t.Errorf("gap before retry %d = %v, want >= delay_before_retry 40ms", i, gap)
				}
			}
			if diff := cmp.Diff([]note{{Up: false, Reason: "r2"}}, rec.get()); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("retry succeeds: no change", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := NewScheduler(nopLog(), WithJitter(false))
			c := &seqChecker{seq: []bool{false, true, false, false, true}}
			var rec recorder
			s.Add("r", c, Params{Interval: 20 * time.Millisecond, Retry: 2, DelayBeforeRetry: time.Millisecond, InitialUp: true}, rec.notify)
			run(t, s)
			waitCalls(t, c, 8, 5*time.Second)
			if diff := cmp.Diff([]note(nil), rec.get()); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
		})
	})
}

func TestSchedulerRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog(), WithJitter(false))
		c := &seqChecker{seq: []bool{true}}
		keep := &seqChecker{seq: []bool{true}}
		s.Add("gone", c, Params{Interval: 5 * time.Millisecond}, nil)
		s.Add("kept", keep, Params{Interval: 5 * time.Millisecond}, nil)
		run(t, s)
		waitCalls(t, c, 3, 5*time.Second)
		s.Remove("gone")
		s.Remove("never-added") // no-op
		if _, found := s.State("gone"); found {
			t.Error("State of removed id found")
		}
		time.Sleep(20 * time.Millisecond) // let an in-flight attempt finish
		n := len(c.calls())
		k := len(keep.calls())
		time.Sleep(100 * time.Millisecond)
		if got := len(c.calls()); got != n {
			t.Errorf("removed check ran %d more times", got-n)
		}
		// 20 starts in 100ms (fake clock); the one on the window's edge may
		// fall outside it.
		if got := len(keep.calls()); got < k+19 {
			t.Errorf("kept check ran %d times in 100ms at 5ms interval, want >= 19", got-k)
		}
		if got := s.Len(); got != 1 {
			t.Errorf("Len() = %d, want 1", got)
		}
	})
}

// TestSchedulerNoDrift: a check that takes 15ms at a 50ms interval must
// start every 50ms, not every 65ms (which planning from completion gives).
func TestSchedulerNoDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval, n = 50 * time.Millisecond, 21
		s := NewScheduler(nopLog(), WithJitter(false))
		c := &seqChecker{seq: []bool{true}, sleep: 15 * time.Millisecond}
		s.Add("d", c, Params{Interval: interval}, nil)
		run(t, s)
		calls := waitCalls(t, c, n, 10*time.Second)
		span := calls[n-1].Sub(calls[0])
		// 1s; planning from completion would give >= 1.3s. On the
		// bubble's fake clock the starts are exact.
		want := (n - 1) * interval
		if d := span - want; d != 0 {
			t.Errorf("%d intervals took %v, want %v (±bound): intervals drift", n-1, span, want)
		}
	})
}

func TestSchedulerJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog()) // jitter on
		const k = 50
		interval := 400 * time.Millisecond
		cs := make([]*seqChecker, k)
		start := time.Now()
		for i := range cs {
			cs[i] = &seqChecker{seq: []bool{true}}
			s.Add(fmt.Sprint(i), cs[i], Params{Interval: interval}, nil)
		}
		run(t, s)
		var early, late int
		for _, c := range cs {
			first := waitCalls(t, c, 1, 5*time.Second)[0].Sub(start)
			if first < interval/2 {
				early++
			} else {
				late++
			}
			if first > interval {
				t.Errorf("first run after %v, want within the interval %v", first, interval)
			}
		}
		if early < 5 || late < 5 {
			t.Errorf("first runs: %d in the first half of the interval, %d in the second; want spread", early, late)
		}
	})
}

// hangChecker ignores its context; panicChecker panics.
type hangChecker struct{ release chan struct{} }

func (h hangChecker) Check(context.Context) Result { <-h.release; return Result{OK: true} }
func (hangChecker) String() string                 { return "hang" }

type panicChecker struct{}

func (panicChecker) Check(context.Context) Result { panic("boom") }
func (panicChecker) String() string               { return "panic" }

func TestSchedulerBoundsMisbehavingCheckers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		s := NewScheduler(nopLog(), WithJitter(false), WithWorkers(2), WithGrace(20*time.Millisecond))
		got := make(chan State, 8)
		p := Params{Interval: time.Hour, Timeout: 50 * time.Millisecond, InitialUp: true}
		start := time.Now()
		s.Add("hang", hangChecker{release}, p, func(_ string, st State) { got <- st })
		s.Add("panic", panicChecker{}, p, func(_ string, st State) { got <- st })
		run(t, s)
		reasons := map[string]bool{}
		for range 2 {
			select {
			case st := <-got:
				reasons[st.Reason] = true
			case <-time.After(5 * time.Second):
				t.Fatal("misbehaving checker not bounded")
			}
		}
		// timeout 50ms + grace 20ms + one monitor tick (grace/2), exact on
		// the bubble's fake clock.
		if el := time.Since(start); el > 80*time.Millisecond {
			t.Errorf("took %v, want at most timeout+grace+monitor tick (80ms)", el)
		}
		if diff := cmp.Diff(map[string]bool{"timeout": true, "panic: boom": true}, reasons); diff != "" {
			t.Errorf("reasons (-want +got):\n%s", diff)
		}
		if n := s.Abandoned(); n != 1 {
			t.Errorf("Abandoned() = %d, want 1", n)
		}
	})
}

func TestSchedulerWeightChangeNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog(), WithJitter(false))
		c := &seqChecker{seq: []bool{true}, weight: []*int{intp(5), intp(5), nil, intp(7), intp(7)}}
		var rec recorder
		s.Add("w", c, Params{Interval: 5 * time.Millisecond}, rec.notify)
		run(t, s)
		waitCalls(t, c, 8, 5*time.Second)
		s.Remove("w")
		want := []note{{Up: true, Reason: "r0", Weight: intp(5)}, {Up: true, Reason: "r3", Weight: intp(7)}}
		if diff := cmp.Diff(want, rec.get()); diff != "" {
			t.Errorf("notifications (-want +got):\n%s", diff)
		}
	})
}

func TestSchedulerRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog())
		run(t, s)
		time.Sleep(10 * time.Millisecond)
		if err := s.Run(context.Background()); err != ErrRunning {
			t.Errorf("second Run = %v, want ErrRunning", err)
		}
	})
}

func TestParamsDefaults(t *testing.T) {
	got := Params{Retry: -1}.withDefaults()
	want := Params{Interval: DefaultInterval, Timeout: DefaultInterval, Rise: 1, Fall: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withDefaults (-want +got):\n%s", diff)
	}
}

// TestSchedulerRunAgain: checks survive a stopped Run and run again in the
// next one.
func TestSchedulerRunAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(nopLog(), WithJitter(false))
		cs := make([]*seqChecker, 20)
		for i := range cs {
			cs[i] = &seqChecker{seq: []bool{true}, sleep: 2 * time.Millisecond}
			s.Add(fmt.Sprint(i), cs[i], Params{Interval: 5 * time.Millisecond}, nil)
		}
		for round := 1; round <= 2; round++ {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			for _, c := range cs {
				waitCalls(t, c, 3*round, 5*time.Second)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run() = %v", err)
			}
			// Let abandoned in-flight attempts settle.
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		m := map[string]any{}
		if json.Unmarshal(l, &m) == nil {
			delete(m, "time")
			out = append(out, m)
		}
	}
	return out
}

func TestSchedulerLogsEachChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		s := NewScheduler(slog.New(slog.NewJSONHandler(&buf, nil)), WithJitter(false))
		c := &seqChecker{seq: []bool{true, false, false, true}}
		s.Add("rs1", c, Params{Interval: 5 * time.Millisecond, InitialUp: true}, nil)
		run(t, s)
		waitCalls(t, c, 6, 5*time.Second)
		s.Remove("rs1")
		time.Sleep(20 * time.Millisecond)
		want := []map[string]any{
			{"level": "INFO", "msg": "check state changed", "check": "rs1", "target": "seq", "state": "down", "reason": "r1"},
			{"level": "INFO", "msg": "check state changed", "check": "rs1", "target": "seq", "state": "up", "reason": "ok"},
		}
		if diff := cmp.Diff(want, buf.lines()); diff != "" {
			t.Errorf("log lines (-want +got):\n%s", diff)
		}
	})
}

// fastChecker succeeds at once and counts its runs.
type fastChecker struct {
	mu sync.Mutex
	n  int
}

func (f *fastChecker) Check(context.Context) Result {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	return Result{OK: true}
}
func (f *fastChecker) String() string { return "fast" }
func (f *fastChecker) count() int     { f.mu.Lock(); defer f.mu.Unlock(); return f.n }

// TestSchedulerManyChecks: 2,000 checks at 100ms run about 10 times a
// second each, without a goroutine per check.
func TestSchedulerManyChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, workers = 2000, 16
		base := runtime.NumGoroutine()
		s := NewScheduler(nopLog(), WithWorkers(workers))
		fs := make([]*fastChecker, n)
		for i := range fs {
			fs[i] = &fastChecker{}
			s.Add(fmt.Sprint(i), fs[i], Params{Interval: 100 * time.Millisecond}, nil)
		}
		run(t, s)
		maxG := 0
		for range 20 {
			time.Sleep(50 * time.Millisecond)
			maxG = max(maxG, runtime.NumGoroutine()-base)
		}
		// workers + dispatcher + one probe goroutine per busy worker + test's own.
		if maxG > 2*workers+10 {
			t.Errorf("up to %d goroutines for %d checks, want <= %d", maxG, n, 2*workers+10)
		}
		low := 0
		for _, f := range fs {
			if f.count() < 4 { // ~9-10 expected in 1s after a jittered start
				low++
			}
		}
		if low > 0 {
			t.Errorf("%d of %d checks ran fewer than 4 times in 1s at 100ms", low, n)
		}
	})
}
