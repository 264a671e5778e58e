// Package vrrp implements the Virtual Router Redundancy Protocol: the wire
// format of VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) for IPv4 and IPv6
// (packet.go), the raw IP protocol 112 transport, unicast to configured peers
// or multicast (conn_linux.go), the demultiplexer that hands received adverts
// to instances by interface and VRID (mux.go), the per-instance state machine
// of RFC 5798 §6.4 (router.go, with its timer math in timers.go and an
// injected Clock) and sync groups (group.go).
//
// Invariants:
//   - vrrp imports nothing from providers/, lvs/, checks/ or a cloud SDK; it
//     reports transitions through Hooks its consumer supplies.
//   - Every dropped packet is counted under exactly one DropReason: wire
//     drops (malformed, checksum, ttl, vrid_unknown) by the Mux's Counters,
//     instance drops (not_peer, auth, advert_interval, …) by the Router's.
//   - A Router runs on one goroutine (Run); Deliver, SetTrack and Status
//     never block and may be called from any goroutine; Hooks are called on
//     the Router's goroutine and must not block.
//   - On stop a master sends one priority-0 advert and keeps the VIPs until
//     it hears the new master (or Master_Down_Interval passes), then reports
//     Master → Initialize with reason "stop": the handover leaves no gap.
//   - A master that yields to a better master, or with its sync group,
//     first sends an advert at its own priority and one at priority 0; a
//     master that hears either (any lower-priority or priority-0 advert)
//     re-sends its advert at once and reports Hooks.PeerMaster, so the agent
//     re-announces the VIPs: a healed split brain leaves no ARP/ND black
//     hole.
//   - All I/O is bounded by a context; Run returns only when it is done.
package vrrp
