package vrrp

import "time"

// Clock is the source of time of a Router, injected so tests can use a fake
// (vrrptest.Clock) and never sleep.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d
	// has passed.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine (or the fake's caller) once d
	// has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is the part of *time.Timer the Router uses. Stop and Reset follow
// Go 1.23 semantics: after either returns, no stale value is received from
// C.
type Timer interface {
	// C returns the channel the time is delivered on (nil for AfterFunc
	// timers).
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped
	// a pending timer.
	Stop() bool
	// Reset changes the timer to fire after d; it reports whether the timer
	// was pending.
	Reset(d time.Duration) bool
}

// RealClock returns the Clock of the time package.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
