// Package netlink implements the on-prem VIP provider: it adds the VIP to a
// local interface over rtnetlink and announces it as keepalived does, with
// gratuitous ARP (IPv4: broadcast ARP request, sender = target = VIP, sent
// with an mdlayher/arp Client, so the interface needs an IPv4 address) or
// unsolicited neighbour advertisements (IPv6: to ff02::1, hop limit 255,
// Override set, Solicited clear, target link-layer address option).
//
// Invariants: Acquire, Release and Cleanup are idempotent (an address already
// present is not added again, an absent one is not an error); the first
// announcement is sent before Acquire/Announce returns and the rest of the
// burst by a goroutine the Provider owns, stopped by Release or Cleanup of
// that VIP or by Close, which waits for it; packet building is pure
// (frame.go). With Options.NetNS empty the Provider works in its callers'
// namespace (a normal process: its own): the rtnetlink handle is made on the
// first call, packet sockets (for IPv4 wrapped in an arp.Client) on each
// announcing call. With Options.NetNS both
// are made in that namespace, whatever thread calls. With Options.DryRun the
// provider only reads (links, addresses) and logs each change it would make
// ("dry-run: would add vip", "… remove vip", "… announce vip"): no address
// is added or removed and no packet is sent. Only _linux.go files touch the
// kernel; elsewhere every call fails.
//
// Routing (routes.go, routes_linux.go) is separate from the Provider: it
// installs an instance's virtual_routes and virtual_rules. Invariants: it
// removes only routes and rules it added itself (an entry the kernel
// already had is left alone and never owned); its routes and rules carry
// protocol keepalived (18), so a delete never matches someone else's; Set is
// idempotent (owned routes are replaced, missing ones restored); rules go
// in before routes and come out after them.
package netlink
