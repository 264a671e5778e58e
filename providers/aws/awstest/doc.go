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
// Each behaviour follows the EC2 API reference
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/…), cited where it
// is implemented:
//   - API_DescribeNetworkInterfaces.html: filters are exact; MaxResults
//     (5..1000, not with NetworkInterfaceId: InvalidParameterCombination)
//     and NextToken page the answer, and a page may hold fewer items than
//     MaxResults (SetMaxPage); an unpaginated request without one of the
//     filters group-id, mac-address, private-dns-name, private-ip-address,
//     subnet-id, vpc-id fails with many ENIs (SetUnpagedLimit).
//   - API_AssignPrivateIpAddresses.html: "Remapping an IP address is an
//     asynchronous operation" (SetRemapDelay, LoseNextRemaps); addresses are
//     unique within a VPC only (ENI.VPCID).
//   - API_ReplaceRoute.html: a missing route answers InvalidParameterValue
//     "There is no route defined for … Use CreateRoute instead." (the code
//     is not in the reference; moto PR 6425 checked it against AWS);
//     API_CreateRoute.html: an existing one RouteAlreadyExists.
//   - Common parameters, DryRun: DryRunOperation (HTTP 412) when allowed,
//     UnauthorizedOperation (403) when not (Deny); errors-overview.html for
//     every code and its HTTP status.
//
// Invariants: all state is guarded by one mutex per server; snapshots
// returned to callers are copies; a server listens on the address it is
// given (or on a listener the caller created, e.g. inside a network
// namespace) and stops serving on Close, which may be called more than once.
package awstest
