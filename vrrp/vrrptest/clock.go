package vrrptest

import (
	"sync"
	"time"

	"github.com/vipd/vipd/vrrp"
)

var _ vrrp.Clock = (*Clock)(nil)

// Clock is a fake vrrp.Clock whose time moves only on Advance. It is safe
// for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64              // orders timers with the same deadline by creation/reset
	timers map[*timer]struct{} // the active timers
	settle func()
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: make(map[*timer]struct{})}
}

// SetSettle sets a function Advance calls after each timer fires and at its
// end, typically synctest.Wait, so the goroutines woken by one timer finish
// before the next timer fires.
func (c *Clock) SetSettle(f func()) {
	c.mu.Lock()
	c.settle = f
	c.mu.Unlock()
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock is advanced by d.
func (c *Clock) NewTimer(d time.Duration) vrrp.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc returns a timer that calls f from Advance when the clock is
// advanced by d.
func (c *Clock) AfterFunc(d time.Duration, f func()) vrrp.Timer {
	t := &timer{c: c, f: f}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due
// in deadline order, with the clock set to each timer's deadline when it
// fires; a timer reset by a goroutine woken during Advance fires within the
// same Advance if its new deadline is due. The settle function runs after
// each fire, and once before time moves.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	settle := c.settle
	c.mu.Unlock()
	if settle != nil {
		settle() // let what the caller started finish at the current time
	}
	for {
		c.mu.Lock()
		var next *timer
		for t := range c.timers {
			if t.when.After(target) {
				continue
			}
			if next == nil || t.when.Before(next.when) || (t.when.Equal(next.when) && t.seq < next.seq) {
				next = t
			}
		}
		settle := c.settle
		if next == nil {
			c.now = target
			c.mu.Unlock()
			if settle != nil {
				settle()
			}
			return
		}
		if next.when.After(c.now) {
			c.now = next.when
		}
		delete(c.timers, next)
		now := c.now
		if next.f == nil {
			select {
			case next.ch <- now:
			default:
			}
		}
		c.mu.Unlock()
		if next.f != nil {
			next.f()
		}
		if settle != nil {
			settle()
		}
	}
}

type timer struct {
	c    *Clock
	ch   chan time.Time // nil for AfterFunc
	f    func()
	when time.Time
	seq  uint64
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, was := t.c.timers[t]
	delete(t.c.timers, t)
	t.drain()
	return was
}

func (t *timer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	_, was := c.timers[t]
	t.drain()
	t.when = c.now.Add(d)
	c.seq++
	t.seq = c.seq
	c.timers[t] = struct{}{}
	return was
}

// drain removes a fired but unreceived value (Go 1.23 timer semantics).
func (t *timer) drain() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}
