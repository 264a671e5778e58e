// Package harness builds the network-namespace test bed of vipd's integration
// tests, demo and failover benchmark: a bridge in a switch namespace, N node
// namespaces and a client namespace, plus helpers to run vipd and keepalived
// in them, probe a VIP from the client and watch who holds it.
//
// Invariants: every namespace, process and socket a bed creates is removed at
// cleanup, also on failure; names carry a random per-bed prefix ("vt…").
package harness

import "runtime"

// The main goroutine stays on the main thread, so that no goroutine that
// switches namespace (NS.Do) can ever run on it: a namespace switch on the
// main thread would move the whole process (as seen by `ip netns pids`).
func init() { runtime.LockOSThread() }
