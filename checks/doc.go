// Package checks implements vipd's health checks: keepalived's TCP_CHECK,
// HTTP_GET/SSL_GET, MISC_CHECK (with misc_dynamic), DNS_CHECK, PING_CHECK
// (ICMP/ICMPv6 echo over an unprivileged ping socket, raw as fallback),
// SMTP_CHECK and a UDP probe, plus the Scheduler that runs thousands of
// them.
//
// The split follows seesaw's healthcheck package: a Checker only probes
// once and reports a Result; the Scheduler owns timing (delay_loop),
// retries (retry / delay_before_retry), hysteresis (rise / fall) and
// notifications.
//
// Invariants:
//   - Checker.Check honours ctx: it returns by the context's deadline. The
//     Scheduler still bounds a checker that ignores ctx (or panics): the
//     attempt is recorded as failed with reason "timeout" (or "panic: …"),
//     the stuck worker is replaced, and its goroutine exits when the
//     checker returns. Such a checker may then run concurrently with its
//     next attempt.
//   - The Scheduler uses one timer heap and a fixed pool of workers; there
//     is no goroutine per check. The next run is planned from the previous
//     planned time, so intervals do not drift with check duration.
//   - For one check id, at most one attempt is in flight, and notify calls
//     are never concurrent; notify is called only when State.Up or
//     State.Weight changes.
//   - Nothing here imports vrrp/, providers/, lvs/ or configs/.
package checks
