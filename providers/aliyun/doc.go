// Package aliyun implements the Alibaba Cloud provider: it moves a VIP by
// the VPC / ECS APIs in one of three modes.
//
//   - havip: the HAVIP follows the gratuitous ARP sent by the node that holds
//     the address (the netlink provider must run alongside). Acquire makes no
//     write; it only checks once that this instance is associated with the
//     HAVIP (AssociateHaVip when manage_association is set). Verify reports
//     Here when DescribeHaVips shows MasterInstanceId == this instance.
//   - route-entry: the VIP/32 custom route entry of the (first) route table
//     gets this instance as next hop (ModifyRouteEntry, CreateRouteEntry when
//     missing, DeleteRouteEntry+CreateRouteEntry for entries without id).
//   - secondary-ip: ECS UnassignPrivateIpAddresses from the holder's ENI,
//     then AssignPrivateIpAddresses to ours.
//
// Invariants: one Acquire is one logical attempt (the shared
// providers.Retry loop owns retries; SDK auto-retry is off); when the cloud
// already points the VIP here Acquire makes no write call; every write goes
// through providers.Writer (dry-run); every failed call is a
// *providers.CallError with the request id and error code; Release makes no
// cloud call (the next master takes over). SDK calls are serialised and
// bound to their context by a Gate (the SDK takes no context).
//
// Only IPv4 VIPs are handled (providers.Modes rejects others before any API
// call); instance and ENI ids are looked up once and kept (providers.Memo).
package aliyun
