// Package bfd implements Bidirectional Forwarding Detection in asynchronous
// mode (RFC 5880) for single-hop peers (RFC 5881), so that a VRRP backup
// learns of its master's death in DetectMult × interval (e.g. 3 × 50 ms)
// instead of 3 × Advertisement_Interval + Skew_Time.
//
// The wire format is in packet.go (Parse, Append), the transport in
// conn_linux.go (UDP port 3784, one socket per family for all sessions),
// the demultiplexer in mux.go and the per-peer state machine of RFC 5880
// §6.8 in session.go. Echo mode, demand mode and authentication are not
// implemented: a packet with the A bit set is discarded.
//
// Invariants:
//   - Packets are sent with TTL / hop limit 255 and only packets received
//     with 255 are accepted (GTSM, RFC 5881 §5); the source port is one of
//     49152..65535, the same for every packet of a Conn.
//   - Every discarded packet is counted under exactly one DropReason.
//   - A Session runs on one goroutine (Run); its state variables are owned
//     by it. State and Status never block. The onChange callback is called
//     on that goroutine, once per change, and must not block.
//   - While a session is not Up it advertises and uses a Desired Min TX
//     Interval of at least 1 s (§6.8.3); a change of that interval starts a
//     Poll Sequence, and a Poll is answered with a Final at once.
//   - Periodic packets are jittered to 75–100 % of the interval (at most
//     90 % when DetectMult is 1), and none are sent to a peer whose Required
//     Min RX Interval is 0 (§6.8.7).
//   - The Detection Time is the peer's Detect Mult times the greater of our
//     Required Min RX Interval and the peer's Desired Min TX Interval
//     (§6.8.4); when it passes without a valid packet an Init or Up session
//     goes Down with DiagTimeExpired.
//   - Time comes from an injected Clock (vrrp.Clock), so tests never sleep.
//   - Run returns only after its timers are stopped; on the way out it sends
//     AdminDown (DetectMult packets at the interval, at most 1 s, if the
//     session was Up; one otherwise) and removes the session from its Mux.
package bfd
