package checks

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Params are one check's timing and hysteresis (keepalived names in
// parentheses).
type Params struct {
	Interval         time.Duration // delay_loop; 0: DefaultInterval
	Timeout          time.Duration // bound on one attempt; 0: Interval
	Retry            int           // retry: extra attempts before a cycle counts as failed
	DelayBeforeRetry time.Duration // delay_before_retry
	Rise             int           // consecutive good cycles to go up; <1: 1
	Fall             int           // consecutive failed cycles to go down; <1: 1
	InitialUp        bool          // start up (keepalived: alpha off) instead of down
}

// DefaultInterval is used when Params.Interval is 0.
const DefaultInterval = 5 * time.Second

func (p Params) withDefaults() Params {
	if p.Interval <= 0 {
		p.Interval = DefaultInterval
	}
	if p.Timeout <= 0 {
		p.Timeout = p.Interval
	}
	if p.Retry < 0 {
		p.Retry = 0
	}
	if p.DelayBeforeRetry < 0 {
		p.DelayBeforeRetry = 0
	}
	if p.Rise < 1 {
		p.Rise = 1
	}
	if p.Fall < 1 {
		p.Fall = 1
	}
	return p
}

// State is a check's current verdict.
type State struct {
	Up         bool
	Reason     string    // reason of the last failed result that took it down; "" while up
	Since      time.Time // last change of Up (or Add)
	LastResult Result    // most recent attempt
	Weight     *int      // last weight reported by a dynamic MISC_CHECK; nil if none
}

func (s State) clone() State {
	if s.Weight != nil {
		w := *s.Weight
		s.Weight = &w
	}
	return s
}

// DefaultWorkers is the default size of the worker pool. A worker runs one
// attempt at a time in its own goroutine, so the pool bounds how many
// probes (open sockets, forked scripts) are in flight at once. Healthy loopback or LAN
// probes take well under a millisecond, so even 5,000 checks a second need
// only a few busy workers; the pool is sized for the failure case, where
// attempts last until their timeout: 256 workers keep 256 probes/s flowing
// with 1 s timeouts while capping file descriptors and forks far below
// the default RLIMIT_NOFILE. Raise it with WithWorkers for many checks with
// long timeouts.
const DefaultWorkers = 256

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithWorkers sets the worker pool size (n < 1 is ignored).
func WithWorkers(n int) Option {
	return func(s *Scheduler) {
		if n >= 1 {
			s.workers = n
		}
	}
}

// WithJitter turns the random spread of first runs across the interval on
// (default) or off (first run at once; for tests).
func WithJitter(on bool) Option { return func(s *Scheduler) { s.jitter = on } }

// WithGrace sets how long past an attempt's timeout the scheduler waits for
// a checker that ignores its context before recording "timeout" and
// abandoning it (default 100ms).
func WithGrace(d time.Duration) Option { return func(s *Scheduler) { s.grace = d } }

// Scheduler runs checks: one timer heap ordered by due time feeds a fixed
// pool of workers. Add and Remove may be called before or during Run.
type Scheduler struct {
	log     *slog.Logger
	workers int
	jitter  bool
	grace   time.Duration

	abandoned atomic.Int64 // attempts whose checker did not return in time
	// monitorScans counts the monitor's looks at the workers (tests: an
	// idle scheduler must not wake up periodically).
	monitorScans atomic.Int64

	mu      sync.Mutex
	h       entryHeap
	byID    map[string]*entry
	started bool
	wake    chan struct{} // cap 1: "the heap's head may have changed"
}

// entry is one check. id, c, p and notify are fixed at Add; the rest is
// guarded by Scheduler.mu (warned is atomic).
type entry struct {
	id     string
	c      Checker
	p      Params
	notify func(id string, s State)

	next    time.Time // when the next attempt is due
	planned time.Time // the regular slot the current cycle belongs to
	attempt int       // 0: first attempt of the cycle; k: k-th retry
	index   int       // position in the heap, -1 when not in it
	removed bool
	warned  atomic.Bool // overran-timeout warning logged

	st         State
	okStreak   int
	failStreak int
}

// NewScheduler returns a stopped Scheduler; call Run.
func NewScheduler(log *slog.Logger, opts ...Option) *Scheduler {
	s := &Scheduler{
		log:     log,
		workers: DefaultWorkers,
		jitter:  true,
		grace:   100 * time.Millisecond,
		byID:    map[string]*entry{},
		wake:    make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Add starts checking c under id, replacing a check with the same id.
// notify (may be nil) is called after each change of Up or Weight, from a
// worker goroutine, never concurrently for one id; it should not block for
// long (it holds a worker).
func (s *Scheduler) Add(id string, c Checker, p Params, notify func(id string, s State)) {
	p = p.withDefaults()
	now := time.Now()
	first := now
	if s.jitter {
		first = now.Add(rand.N(p.Interval))
	}
	e := &entry{id: id, c: c, p: p, notify: notify, next: first, planned: first, index: -1,
		st: State{Up: p.InitialUp, Since: now}}
	s.mu.Lock()
	s.removeLocked(id)
	s.byID[id] = e
	heap.Push(&s.h, e)
	s.mu.Unlock()
	s.poke()
}

// Remove stops checking id. An attempt already running finishes, but its
// result is dropped and notify is not called.
func (s *Scheduler) Remove(id string) {
	s.mu.Lock()
	s.removeLocked(id)
	s.mu.Unlock()
	s.poke()
}

func (s *Scheduler) removeLocked(id string) {
	e, found := s.byID[id]
	if !found {
		return
	}
	delete(s.byID, id)
	e.removed = true
	if e.index >= 0 {
		heap.Remove(&s.h, e.index)
	}
}

// State returns id's current state.
func (s *Scheduler) State(id string) (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, found := s.byID[id]
	if !found {
		return State{}, false
	}
	return e.st.clone(), true
}

// Len is the number of checks.
func (s *Scheduler) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// Abandoned counts attempts whose checker did not return by its timeout
// plus grace (or by grace after Run's ctx ended); their goroutines were
// left to finish on their own.
func (s *Scheduler) Abandoned() int64 { return s.abandoned.Load() }

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ErrRunning is returned by a second concurrent Run.
var ErrRunning = errors.New("checks: scheduler already running")

// Run drives the checks until ctx ends, then returns nil once every worker
// has exited.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return ErrRunning
	}
	s.started = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.started = false
		s.mu.Unlock()
	}()

	p := &pool{s: s, ctx: ctx, jobs: make(chan *entry), workers: map[*worker]struct{}{}, kick: make(chan struct{}, 1)}
	p.armed.Store(math.MaxInt64)
	workersDone := make(chan struct{})
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		p.monitor(workersDone)
	}()
	s.dispatch(ctx, p)
	// Workers stop on ctx.Done; the monitor abandons any stuck in a
	// checker that ignores ctx, so this returns within grace.
	p.wg.Wait()
	close(workersDone)
	<-monitorDone
	return nil
}

// Worker states.
const (
	workerIdle int32 = iota
	workerBusy
	workerAbandoned
)

// worker is one pool goroutine; the monitor reads its fields.
type worker struct {
	state    atomic.Int32
	e        atomic.Pointer[entry]
	start    atomic.Int64 // unix ns of the attempt's start
	deadline atomic.Int64 // unix ns after which the monitor abandons the attempt
}

// pool is the set of workers of one Run, started as needed up to s.workers. A worker runs checks in its
// own goroutine (no goroutine or timer per attempt besides the check's
// context). The monitor wakes at the earliest deadline of a busy worker
// (never while all are idle) and abandons a worker whose checker overran
// its timeout+grace: it records "timeout"
// for the attempt and starts a replacement, so the pool keeps its size;
// the stuck goroutine exits when the checker finally returns.
type pool struct {
	s    *Scheduler
	ctx  context.Context
	jobs chan *entry
	wg   sync.WaitGroup // live (not abandoned) workers

	mu      sync.Mutex
	workers map[*worker]struct{}

	// armed is when the monitor looks next (unix ns; MaxInt64: never);
	// kick wakes it earlier (see monitor).
	armed atomic.Int64
	kick  chan struct{}
}

// grow starts a worker if the pool has fewer than s.workers.
func (p *pool) grow() {
	p.mu.Lock()
	n := len(p.workers)
	p.mu.Unlock()
	if n < p.s.workers {
		p.spawn()
	}
}

func (p *pool) spawn() {
	w := &worker{}
	p.mu.Lock()
	p.workers[w] = struct{}{}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.work(w)
}

func (p *pool) work(w *worker) {
	for {
		select {
		case <-p.ctx.Done():
			p.exit(w)
			return
		case e := <-p.jobs:
			if !p.s.begin(e) {
				continue
			}
			start := time.Now()
			w.e.Store(e)
			w.start.Store(start.UnixNano())
			dl := start.Add(e.p.Timeout + p.s.grace).UnixNano()
			w.deadline.Store(dl)
			w.state.Store(workerBusy)
			p.watch(dl)
			res := p.s.check(p.ctx, e, start)
			if !w.state.CompareAndSwap(workerBusy, workerIdle) {
				return // abandoned: the monitor recorded the attempt and replaced us
			}
			w.e.Store(nil)
			p.s.finish(p.ctx, e, res)
		}
	}
}

func (p *pool) exit(w *worker) {
	p.mu.Lock()
	delete(p.workers, w)
	p.mu.Unlock()
	p.wg.Done()
}

// monitor abandons overrunning attempts until workersDone is closed. After
// ctx ends, attempts get only grace more to return.
//
// It has no ticker: it sleeps until the earliest deadline of a busy worker
// (or, after ctx ends, ctx end + grace), so an idle scheduler, or one whose
// checks all return in time, costs no periodic wake-up. armed holds the
// time it will next look (math.MaxInt64: never); a worker whose deadline is
// earlier kicks it. While it scans, armed is MaxInt64, so a worker starting
// meanwhile kicks it and it scans again.
func (p *pool) monitor(workersDone <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	ctxDone := p.ctx.Done()
	var stopAt int64 // unix ns: ctx end + grace
	for {
		select {
		case <-workersDone:
			return
		case <-ctxDone:
			ctxDone = nil
			stopAt = time.Now().Add(p.s.grace).UnixNano()
		case <-p.kick:
		case <-t.C:
		}
		p.armed.Store(math.MaxInt64)
		p.s.monitorScans.Add(1)
		now := time.Now().UnixNano()
		next := int64(math.MaxInt64)
		var late []*worker
		p.mu.Lock()
		for w := range p.workers {
			if w.state.Load() != workerBusy {
				continue
			}
			dl := w.deadline.Load()
			if stopAt != 0 {
				dl = min(dl, stopAt)
			}
			if now > dl && w.state.CompareAndSwap(workerBusy, workerAbandoned) {
				delete(p.workers, w)
				late = append(late, w)
				continue
			}
			next = min(next, dl)
		}
		p.mu.Unlock()
		for _, w := range late {
			e := w.e.Load()
			if p.ctx.Err() == nil {
				p.spawn()
			}
			p.wg.Done() // for the abandoned worker, which will not
			p.s.overran(e)
			p.s.finish(p.ctx, e, Result{Reason: ReasonTimeout, Duration: time.Duration(now - w.start.Load())})
		}
		t.Stop()
		if next != math.MaxInt64 {
			// Look just after the deadline: "now > dl" abandons.
			t.Reset(time.Duration(next-now) + time.Millisecond)
		}
		p.armed.Store(next)
	}
}

// watch tells the monitor about a worker that just became busy with
// deadline dl (unix ns), if the monitor would not look in time.
func (p *pool) watch(dl int64) {
	if dl < p.armed.Load() {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// dispatch pops due entries off the heap and hands them to the workers,
// starting a worker when none is free and the pool is below its size:
// the pool grows to what the checks need (none without checks), at most
// s.workers.
func (s *Scheduler) dispatch(ctx context.Context, p *pool) {
	jobs := p.jobs
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due *entry
		wait := time.Duration(-1)
		s.mu.Lock()
		if len(s.h) > 0 {
			if d := time.Until(s.h[0].next); d <= 0 {
				due = heap.Pop(&s.h).(*entry)
			} else {
				wait = d
			}
		}
		s.mu.Unlock()
		if due != nil {
			select {
			case jobs <- due:
				continue
			default:
			}
			p.grow()
			select {
			case jobs <- due:
				continue
			case <-ctx.Done():
				s.requeue(due) // keep it for a later Run
				return
			}
		}
		if wait < 0 {
			timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// begin reports whether e is still wanted (not removed since dispatch).
func (s *Scheduler) begin(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !e.removed
}

// finish records one attempt's result and schedules the next attempt.
func (s *Scheduler) finish(ctx context.Context, e *entry, res Result) {
	if ctx.Err() != nil {
		// Shutting down: the result says nothing about the target. Keep
		// the check queued for a later Run.
		s.requeue(e)
		return
	}
	now := time.Now()
	s.mu.Lock()
	if e.removed {
		s.mu.Unlock()
		return
	}
	e.st.LastResult = res
	if !res.OK && e.attempt < e.p.Retry {
		e.attempt++
		attempt := e.attempt
		e.next = now.Add(e.p.DelayBeforeRetry)
		heap.Push(&s.h, e)
		s.mu.Unlock()
		s.poke()
		s.log.Debug("check retry", "check", e.id, "target", e.c.String(), "reason", res.Reason, "attempt", attempt)
		return
	}
	e.attempt = 0
	changed := e.observe(res, now)
	st := e.st.clone()
	// Plan from the slot, not from completion, so intervals do not drift;
	// skip slots an overrunning cycle (retries, slow checks) has missed.
	next := e.planned.Add(e.p.Interval)
	if !next.After(now) {
		next = e.planned.Add((now.Sub(e.planned)/e.p.Interval + 1) * e.p.Interval)
	}
	e.planned, e.next = next, next
	s.mu.Unlock()

	if changed {
		s.logChange(e, st)
		if e.notify != nil {
			e.notify(e.id, st)
		}
	}
	// Re-queue only after notify returned, so notifications for one id are
	// never concurrent.
	s.mu.Lock()
	if !e.removed {
		heap.Push(&s.h, e)
	}
	s.mu.Unlock()
	s.poke()
}

// requeue puts e back on the heap unchanged unless it was removed.
func (s *Scheduler) requeue(e *entry) {
	s.mu.Lock()
	if !e.removed && e.index < 0 {
		heap.Push(&s.h, e)
	}
	s.mu.Unlock()
}

func (s *Scheduler) logChange(e *entry, st State) {
	state, reason := "down", st.Reason
	if st.Up {
		state, reason = "up", "ok"
	}
	args := []any{"check", e.id, "target", e.c.String(), "state", state, "reason", reason}
	if st.Weight != nil {
		args = append(args, "weight", *st.Weight)
	}
	s.log.Info("check state changed", args...)
}

// observe applies one cycle's result to the rise/fall counters and reports
// whether Up or Weight changed.
func (e *entry) observe(r Result, now time.Time) bool {
	wasUp := e.st.Up
	oldW := e.st.Weight
	if r.OK {
		e.okStreak++
		e.failStreak = 0
		if !e.st.Up && e.okStreak >= e.p.Rise {
			e.st.Up = true
		}
		if r.Weight != nil { // misc_dynamic: exit 0 keeps the weight
			w := *r.Weight
			e.st.Weight = &w
		}
	} else {
		e.failStreak++
		e.okStreak = 0
		if e.st.Up && e.failStreak >= e.p.Fall {
			e.st.Up = false
		}
	}
	upChanged := wasUp != e.st.Up
	if upChanged {
		e.st.Since = now
		e.st.Reason = ""
		if !e.st.Up {
			e.st.Reason = r.Reason
		}
	}
	weightChanged := (oldW == nil) != (e.st.Weight == nil) || (oldW != nil && *oldW != *e.st.Weight)
	return upChanged || weightChanged
}

// check runs one attempt in the calling worker, turning a panic into a
// failed result. The pool's monitor bounds a checker that ignores ctx.
func (s *Scheduler) check(ctx context.Context, e *entry, start time.Time) (r Result) {
	cctx, cancel := context.WithTimeout(ctx, e.p.Timeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			r = Result{Reason: fmt.Sprintf("panic: %v", v)}
		}
		if r.Duration == 0 {
			r.Duration = time.Since(start)
		}
		if !r.OK && r.Reason == "" {
			r.Reason = "failed"
		}
	}()
	return e.c.Check(cctx)
}

// overran counts an abandoned attempt and warns once per check: under
// overload every attempt may overrun, and Abandoned counts them all.
func (s *Scheduler) overran(e *entry) {
	s.abandoned.Add(1)
	if e.warned.CompareAndSwap(false, true) {
		s.log.Warn("check attempt overran its timeout", "check", e.id, "target", e.c.String(), "reason", ReasonTimeout)
	}
}

// entryHeap is a min-heap of entries by next due time.
type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}
