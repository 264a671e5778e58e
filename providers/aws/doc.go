// Package aws implements the vipd provider that moves a VIP on Amazon EC2
// through the EC2 API, in one of three modes:
//
//   - secondary-ip: AssignPrivateIpAddresses (AllowReassignment=true) of the
//     VIP to this instance's ENI; the address itself is put on the NIC by the
//     netlink provider, which the agent chains with this one.
//   - route-table: CreateRoute / ReplaceRoute of VIP/32 in every listed route
//     table to this instance's ENI (source/destination check must be off).
//   - eip: AssociateAddress (AllowReassociation=true) of an Elastic IP
//     allocation to this instance's ENI.
//
// Instance id, region and ENI come from IMDSv2 when not configured;
// credentials from the SDK default chain (env, shared config, instance role),
// optionally through an assumed role.
//
// Invariants: one Acquire is one logical attempt: it reads the cloud state
// and makes a write call only when the cloud does not already point the VIP
// here. Lookups are scoped (vpc-id) and paged; a secondary-ip
// remap is asynchronous at EC2, so an attempt that wrote polls (bounded,
// providers.Confirm) until it shows and otherwise fails retryably, and the
// next attempt re-issues it. The SDK's own retryer is disabled (aws.NopRetryer): retries belong
// to providers.Retry in the agent, which logs every attempt. Every failed
// API call is returned as a *providers.CallError carrying the request id,
// error code and HTTP status. Every write goes through providers.Writer so
// dry-run is honoured. Release never calls the cloud: the next master takes
// the VIP over, and a backup must not fight it.
package aws
