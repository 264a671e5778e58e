// Package holder acquires and releases the VIPs of one VRRP instance
// through its providers, off the VRRP loop.
//
// Invariants: SetMaster and Reannounce never block (latest wants wins: a
// burst of transitions collapses to the last); while master, the local
// provider acts before the cloud provider, a failed call is retried with
// backoff until it succeeds or the term ends, and the cloud is verified
// until it confirms; leaving master (or Run's end) ends the term, waits for
// it, then releases with a fresh bounded context, so a release never races
// an acquire of the same term. Status may be called from any goroutine.
package holder
