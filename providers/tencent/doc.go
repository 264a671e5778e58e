// Package tencent implements the Tencent Cloud provider: it moves a VIP by
// the VPC API (2017-03-12) in one of three modes.
//
//   - havip: the HAVIP follows the gratuitous ARP sent by the node that holds
//     the address (the netlink provider must run alongside). Acquire makes no
//     write; it checks once that the HAVIP may drift to this instance
//     (AssociateHaVipInstance when its drift range check is on and
//     manage_association is set). Verify reports Here when DescribeHaVips
//     shows the HAVIP bound to this instance (or its configured ENI).
//   - private-ip: MigratePrivateIpAddress from the holder's ENI to ours (same
//     subnet), an asynchronous task polled with DescribeVpcTaskResult until
//     SUCCESS or FAILED with a bounded backoff.
//   - route: ReplaceRoutes (CreateRoutes when missing) of VIP/32 in every
//     listed route table to GatewayType NORMAL_CVM, GatewayId = this
//     instance's primary private IP.
//
// Invariants: one Acquire is one logical attempt (providers.Retry owns
// retries; the pinned SDK never retries by itself); when the cloud already
// points the VIP here Acquire makes no write call; every write goes through
// providers.Writer (dry-run); every failed call is a *providers.CallError
// with the request id and error code; Release makes no cloud call (the next
// master takes over). SDK calls are serialised and bound to their context by
// a Gate (this SDK version takes no context).
//
// Only IPv4 VIPs are handled (providers.Modes rejects others before any API
// call); instance and ENI ids are looked up once and kept (providers.Memo).
package tencent
