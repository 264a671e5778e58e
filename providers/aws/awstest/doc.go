// Package awstest is a stateful fake of the few Amazon EC2 query-API actions
// vipd's aws provider calls, plus a fake instance metadata service (IMDSv2),
// in the style of net/http/httptest.
//
// The real aws-sdk-go-v2 clients are pointed at it (BaseEndpoint / IMDS
// endpoint override). The fake records every request (it embeds a
// cloudtest.Server), checks the SigV4 signature of each EC2 request, and
// applies writes (AssignPrivateIpAddresses, CreateRoute, ReplaceRoute,
// AssociateAddress) to its state so that the Describe* calls a provider
// uses to verify see them.
//
// Invariants: all state is guarded by one mutex per server; snapshots
// returned to callers are copies; a server listens on the address it is
// given (or on a listener the caller created, e.g. inside a network
// namespace) and stops serving on Close, which may be called more than once.
package awstest
