// Package vrrp implements the Virtual Router Redundancy Protocol: the wire
// format of VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) for IPv4 and IPv6, the raw
// IP protocol 112 transport (unicast to configured peers, or multicast), and
// the per-instance state machine of RFC 5798 §6.4.
//
// Invariants:
//   - vrrp imports nothing from providers/, lvs/, checks/ or a cloud SDK; it
//     reports transitions through hooks its consumer supplies.
//   - Every dropped packet is counted under exactly one DropReason.
//   - All I/O is bounded by a context; Router.Run returns only after its
//     goroutines have exited.
package vrrp
