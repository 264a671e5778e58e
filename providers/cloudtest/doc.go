// Package cloudtest holds the test helpers the cloud providers share: a
// recording HTTP server (Server) that emulates the few cloud API actions a
// provider uses, so provider tests drive the real SDK clients (endpoint
// override) and assert what they actually send; the checks every cloud
// provider must pass against it (Takeover, Handover, RetryCase,
// CheckReleaseNoCall, CheckIPv6Rejected, CheckDeadlineBoundsCall), tested
// against deliberately broken providers; and the failover benchmark driver
// (BenchFailover).
//
// Invariants: it is imported by tests only; a Server listens on 127.0.0.1
// and answers nothing it was not told to (handler, FailNext); every helper
// fails the test or benchmark it was given instead of returning errors.
package cloudtest
