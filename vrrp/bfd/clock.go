package bfd

import "github.com/vipd/vipd/vrrp"

// Clock is the source of time of a Session, injected so that tests use
// vrrptest.Clock and never sleep. It is vrrp's Clock: one fake serves both.
type Clock = vrrp.Clock

// Timer is the timer of a Clock.
type Timer = vrrp.Timer

func realClock() Clock { return vrrp.RealClock() }
