// Package vmnet is the network-namespace lab kit of vipd's kernel tests
// (lvs's TestKernel… and test/vm/directors): a fresh network namespace
// served by one locked OS thread (NS), veth, bridge, address, route and
// oper-up helpers, TCP real servers that answer with their name, and a
// client side to count who answered (Connect, DialLong, Probe, ARPAnswers).
//
// It is test support: only _test.go files import it, never production code.
// Every helper takes a testing.TB and fails the test on a setup error.
//
// Invariants: a namespace's thread is locked and never unlocked, so it (and
// the namespace) ends with its goroutine at the test's cleanup, also on
// failure; no namespace is named or mounted, so interface names inside one
// cannot collide with anyone else's; every wait is bounded; every goroutine
// started here ends when its namespace or listener is closed at cleanup.
// The package builds on Linux only; elsewhere it is empty.
package vmnet
