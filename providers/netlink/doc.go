// Package netlink implements the on-prem VIP provider: it adds the VIP to a
// local interface over rtnetlink and announces it with gratuitous ARP (IPv4)
// or unsolicited neighbour advertisements (IPv6), as keepalived does.
//
// Invariants: Acquire, Release and Cleanup are idempotent (an address already
// present is not added again, an absent one is not an error); the first
// announcement is sent before Acquire returns and the rest of the burst by a
// goroutine the Provider owns, stopped by Release of that VIP or by Close;
// packet building is pure (frame.go) and the only OS-specific code lives in
// _linux.go files.
package netlink
