// Package vrrptest implements in-memory fakes for testing code built on
// package vrrp, in the style of httptest: a Network of Conns wired together
// (unicast and multicast delivery through the real wire encoding, with
// drop, partition and delay) and a fake Clock.
//
// Invariants: nothing here touches the network or sleeps; time moves only
// when Clock.Advance is called. For deterministic tests run the routers
// inside a testing/synctest bubble and give the Clock synctest.Wait as its
// settle function, so every timer fire is fully processed before the next.
package vrrptest
