package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Family is the address family of a virtual service.
type Family uint16

// Address families, valued as the kernel's AF_INET / AF_INET6.
const (
	IPv4 Family = 2
	IPv6 Family = 10
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "inet"
	case IPv6:
		return "inet6"
	}
	return fmt.Sprintf("family(%d)", uint16(f))
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Protocol is the transport protocol of an address:port service.
type Protocol uint16

// Protocols, valued as the IP protocol numbers.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return fmt.Sprintf("proto(%d)", uint16(p))
}

// ParseProtocol parses TCP, UDP or SCTP (any case).
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToUpper(s) {
	case "TCP", "":
		return TCP, nil
	case "UDP":
		return UDP, nil
	case "SCTP":
		return SCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", s)
}

// Schedulers lists every IPVS scheduler of the kernel, in keepalived's order.
var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

// Schedulers returns the names of all IPVS schedulers vipd accepts.
func Schedulers() []string { return append([]string(nil), schedulers...) }

// ValidScheduler reports whether name is a kernel IPVS scheduler.
func ValidScheduler(name string) bool {
	for _, s := range schedulers {
		if s == name {
			return true
		}
	}
	return false
}

// Service flags (include/uapi/linux/ip_vs.h).
const (
	flagPersistent = 0x0001 // IP_VS_SVC_F_PERSISTENT
	flagHashed     = 0x0002 // IP_VS_SVC_F_HASHED, set by the kernel itself
	flagOnePacket  = 0x0004 // IP_VS_SVC_F_ONEPACKET
	flagSched1     = 0x0008 // IP_VS_SVC_F_SCHED1 (sh/mh fallback)
	flagSched2     = 0x0010 // IP_VS_SVC_F_SCHED2 (sh/mh port)
	flagSched3     = 0x0020 // IP_VS_SVC_F_SCHED3
)

// SchedFlags are the scheduler flags of a service (ipvsadm -b).
type SchedFlags uint32

// Scheduler flags.
const (
	SchedFlag1 SchedFlags = flagSched1 // flag-1, sh-fallback, mh-fallback
	SchedFlag2 SchedFlags = flagSched2 // flag-2, sh-port, mh-port
	SchedFlag3 SchedFlags = flagSched3 // flag-3
)

// ParseSchedFlags parses keepalived/ipvsadm scheduler flag names for the
// given scheduler: flag-1..3, sh-fallback, sh-port (sh only), mh-fallback,
// mh-port (mh only).
func ParseSchedFlags(scheduler string, names []string) (SchedFlags, error) {
	var f SchedFlags
	for _, n := range names {
		switch n {
		case "flag-1":
			f |= SchedFlag1
		case "flag-2":
			f |= SchedFlag2
		case "flag-3":
			f |= SchedFlag3
		case "sh-fallback", "mh-fallback", "sh-port", "mh-port":
			if n[:2] != scheduler {
				return 0, fmt.Errorf("scheduler flag %q needs scheduler %s, not %q", n, n[:2], scheduler)
			}
			if strings.HasSuffix(n, "fallback") {
				f |= SchedFlag1
			} else {
				f |= SchedFlag2
			}
		default:
			return 0, fmt.Errorf("unknown scheduler flag %q", n)
		}
	}
	return f, nil
}

// Forwarding is the packet forwarding method (keepalived lb_kind).
type Forwarding uint8

// Forwarding methods. ForwardDefault on a real server means "the
// service's"; on a service it means NAT.
const (
	ForwardDefault Forwarding = iota
	NAT                       // masquerading
	DR                        // direct routing ("route")
	TUN                       // IP-in-IP tunnel
)

func (f Forwarding) String() string {
	switch f {
	case ForwardDefault:
		return "default"
	case NAT:
		return "NAT"
	case DR:
		return "DR"
	case TUN:
		return "TUN"
	}
	return fmt.Sprintf("forwarding(%d)", uint8(f))
}

// ParseForwarding parses NAT, DR or TUN (any case; also masq, route, tunnel);
// the empty string is ForwardDefault.
func ParseForwarding(s string) (Forwarding, error) {
	switch strings.ToUpper(s) {
	case "":
		return ForwardDefault, nil
	case "NAT", "MASQ":
		return NAT, nil
	case "DR", "ROUTE":
		return DR, nil
	case "TUN", "TUNNEL":
		return TUN, nil
	}
	return 0, fmt.Errorf("unknown forwarding method %q (want NAT, DR or TUN)", s)
}

// Kernel connection flags for the forwarding method (IP_VS_CONN_F_*).
const (
	connMasq   = 0x0000
	connTunnel = 0x0002
	connRoute  = 0x0003
	connFwd    = 0x0007
)

func (f Forwarding) kernel() uint32 {
	switch f {
	case DR:
		return connRoute
	case TUN:
		return connTunnel
	}
	return connMasq
}

func forwardingOf(flags uint32) Forwarding {
	switch flags & connFwd {
	case connRoute:
		return DR
	case connTunnel:
		return TUN
	case connMasq:
		return NAT
	}
	return Forwarding(0xff) // local node or bypass: never equal to a desired value
}

// Service is one IPVS virtual service (keepalived virtual_server).
type Service struct {
	// Address is VIP:port; the zero value for a firewall-mark service.
	Address netip.AddrPort
	// FWMark is the firewall mark of a fwmark service (0 for VIP:port).
	FWMark uint32
	// Family of a fwmark service (default IPv4); ignored for VIP:port.
	Family Family
	// Protocol of a VIP:port service (default TCP); ignored for fwmark.
	Protocol Protocol
	// Scheduler is one of Schedulers() (default wlc, as keepalived).
	Scheduler string
	// SchedFlags are scheduler flags (sh-fallback, mh-port, …).
	SchedFlags SchedFlags
	// OnePacket schedules each UDP datagram independently (ops).
	OnePacket bool
	// Persistence is persistence_timeout (whole seconds); 0 disables.
	Persistence time.Duration
	// Netmask is persistence_granularity as a prefix length; 0 means a
	// single client address (/32 or /128).
	Netmask int
	// Forwarding is the default method of its real servers (default NAT).
	Forwarding Forwarding
}

// Key identifies the service in the kernel table.
func (s Service) Key() ServiceKey {
	if s.FWMark != 0 {
		f := s.Family
		if f == 0 {
			f = IPv4
		}
		return ServiceKey{Family: f, FWMark: s.FWMark}
	}
	p := s.Protocol
	if p == 0 {
		p = TCP
	}
	return ServiceKey{Family: familyOf(s.Address.Addr()), Protocol: p, Addr: s.Address.Addr(), Port: s.Address.Port()}
}

func (s Service) family() Family { return s.Key().Family }

func (s Service) scheduler() string {
	if s.Scheduler == "" {
		return "wlc"
	}
	return s.Scheduler
}

func (s Service) forwarding() Forwarding {
	if s.Forwarding == ForwardDefault {
		return NAT
	}
	return s.Forwarding
}

// Validate reports the first problem of s, naming its config key.
func (s Service) Validate() error {
	if s.FWMark == 0 {
		if !s.Address.IsValid() || s.Address.Addr().IsUnspecified() {
			return errors.New("address: want VIP:port or a fwmark")
		}
		if s.Address.Addr().Zone() != "" {
			return errors.New("address: zones are not supported")
		}
		switch s.Protocol {
		case 0, TCP, UDP, SCTP:
		default:
			return fmt.Errorf("protocol: unknown %v", s.Protocol)
		}
	} else {
		if s.Address.IsValid() {
			return errors.New("address: set either an address or a fwmark, not both")
		}
		switch s.Family {
		case 0, IPv4, IPv6:
		default:
			return fmt.Errorf("family: unknown %v", s.Family)
		}
	}
	if !ValidScheduler(s.scheduler()) {
		return fmt.Errorf("scheduler: unknown %q (want one of %s)", s.Scheduler, strings.Join(schedulers, " "))
	}
	if s.SchedFlags&^(SchedFlag1|SchedFlag2|SchedFlag3) != 0 {
		return fmt.Errorf("scheduler_flags: unknown bits %#x", uint32(s.SchedFlags))
	}
	if s.Persistence < 0 || s.Persistence > time.Duration(1<<31)*time.Second {
		return fmt.Errorf("persistence_timeout: %v out of range", s.Persistence)
	}
	if s.Persistence%time.Second != 0 {
		return fmt.Errorf("persistence_timeout: %v is not whole seconds", s.Persistence)
	}
	maxBits := 32
	if s.family() == IPv6 {
		maxBits = 128
	}
	if s.Netmask < 0 || s.Netmask > maxBits {
		return fmt.Errorf("persistence_granularity: /%d out of range for %v", s.Netmask, s.family())
	}
	if s.Forwarding > TUN {
		return fmt.Errorf("forwarding: unknown %v", s.Forwarding)
	}
	return nil
}

// kernelFlags are the service flags vipd programs.
func (s Service) kernelFlags() uint32 {
	f := uint32(s.SchedFlags)
	if s.Persistence > 0 {
		f |= flagPersistent
	}
	if s.OnePacket {
		f |= flagOnePacket
	}
	return f
}

// kernelNetmask encodes the persistence granularity as the kernel's
// IPVS_SVC_ATTR_NETMASK: for IPv4 the mask in network byte order (read
// natively by moby/ipvs), for IPv6 the prefix length.
func (s Service) kernelNetmask() uint32 {
	if s.family() == IPv6 {
		if s.Netmask == 0 {
			return 128
		}
		return uint32(s.Netmask)
	}
	bits := s.Netmask
	if bits == 0 {
		bits = 32
	}
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], ^uint32(0)<<(32-bits))
	return binary.NativeEndian.Uint32(m[:])
}

// ServiceKey identifies a kernel virtual service.
type ServiceKey struct {
	Family   Family
	Protocol Protocol // 0 for fwmark services
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
}

func (k ServiceKey) String() string {
	if k.FWMark != 0 {
		if k.Family == IPv6 {
			return fmt.Sprintf("FWM %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM %d", k.FWMark)
	}
	return k.Protocol.String() + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// Real is one real server of a virtual service (keepalived real_server).
type Real struct {
	// Address is RIP:port.
	Address netip.AddrPort
	// Weight is the configured weight (0–65535).
	Weight int
	// Forwarding overrides the service's method when not ForwardDefault.
	Forwarding Forwarding
	// UpperThreshold is the connection limit (0: none).
	UpperThreshold uint32
	// LowerThreshold is the connection count below which a server that hit
	// its upper threshold gets traffic again.
	LowerThreshold uint32
}

// validate checks r against its service s.
func (r Real) validate(s Service) error {
	if !r.Address.IsValid() || r.Address.Addr().IsUnspecified() {
		return errors.New("address: want RIP:port")
	}
	if familyOf(r.Address.Addr()) != s.family() {
		return fmt.Errorf("address: %v is %v but the virtual server is %v", r.Address, familyOf(r.Address.Addr()), s.family())
	}
	if r.Weight < 0 || r.Weight > 65535 {
		return fmt.Errorf("weight: %d out of range 0..65535", r.Weight)
	}
	if r.Forwarding > TUN {
		return fmt.Errorf("forwarding: unknown %v", r.Forwarding)
	}
	fwd := r.Forwarding
	if fwd == ForwardDefault {
		fwd = s.forwarding()
	}
	if fwd != NAT && s.FWMark == 0 && r.Address.Port() != s.Address.Port() {
		return fmt.Errorf("address: %v forwarding keeps the virtual port %d, so the real server port must be %d", fwd, s.Address.Port(), s.Address.Port())
	}
	if r.LowerThreshold > r.UpperThreshold {
		return fmt.Errorf("lower_threshold: %d is above upper_threshold %d", r.LowerThreshold, r.UpperThreshold)
	}
	return nil
}

// RealState is a real server with the result of its health checks.
type RealState struct {
	Real
	// Healthy is the combined result of its checks (true when it has none).
	Healthy bool
	// InhibitOnFailure keeps an unhealthy server with weight 0 instead of
	// removing it (the real server's setting, else the virtual server's).
	InhibitOnFailure bool
}

// ServiceState is the desired state of one virtual service: its config and
// the health of its real servers. It is what Reconcile consumes.
type ServiceState struct {
	Service
	// Reals are the real servers.
	Reals []RealState
	// Sorry is the sorry_server, programmed (weight 1) instead of the real
	// servers while the quorum is lost; zero for none.
	Sorry netip.AddrPort
	// Quorum is the minimum sum of healthy weights (default 1).
	Quorum int
	// Hysteresis: the quorum is gained at Quorum+Hysteresis and lost below
	// Quorum-Hysteresis.
	Hysteresis int
	// Instance is the VRRP instance that must be master for this service to
	// be programmed; empty: always programmed.
	Instance string
	// QuorumUp and QuorumDown are the configured hook commands, passed back
	// to Config.OnQuorum untouched.
	QuorumUp, QuorumDown string
}

// Validate reports the first problem of st, naming the key.
func (st ServiceState) Validate() error {
	if err := st.Service.Validate(); err != nil {
		return err
	}
	seen := make(map[netip.AddrPort]bool, len(st.Reals))
	for _, r := range st.Reals {
		if err := r.validate(st.Service); err != nil {
			return fmt.Errorf("real_servers[%v]: %w", r.Address, err)
		}
		if seen[r.Address] {
			return fmt.Errorf("real_servers: duplicate %v", r.Address)
		}
		seen[r.Address] = true
	}
	if st.Sorry.IsValid() {
		if err := (Real{Address: st.Sorry, Weight: 1}).validate(st.Service); err != nil {
			return fmt.Errorf("sorry_server: %w", err)
		}
		if seen[st.Sorry] {
			return fmt.Errorf("sorry_server: %v is also a real server", st.Sorry)
		}
	}
	if st.Quorum < 0 || st.Hysteresis < 0 {
		return errors.New("quorum: quorum and hysteresis must not be negative")
	}
	return nil
}

// ValidateStates validates every state and rejects duplicate services.
func ValidateStates(states []ServiceState) error {
	seen := make(map[ServiceKey]bool, len(states))
	for i, st := range states {
		if err := st.Validate(); err != nil {
			return fmt.Errorf("virtual_servers[%d] %v: %w", i, st.Key(), err)
		}
		if seen[st.Key()] {
			return fmt.Errorf("virtual_servers[%d]: duplicate virtual server %v", i, st.Key())
		}
		seen[st.Key()] = true
	}
	return nil
}

// GroupMember is one member of a virtual_server_group: VIP:port or fwmark.
type GroupMember struct {
	Address netip.AddrPort
	FWMark  uint32
}

// ExpandGroup turns a virtual server that references a
// virtual_server_group into one ServiceState per member, all sharing the
// real servers, sorry server and parameters of vs. Quorum is evaluated per
// member service.
func ExpandGroup(vs ServiceState, members []GroupMember) []ServiceState {
	out := make([]ServiceState, 0, len(members))
	for _, m := range members {
		st := vs
		st.Address, st.FWMark = m.Address, m.FWMark
		if m.FWMark == 0 {
			st.Family = 0
		}
		st.Reals = append([]RealState(nil), vs.Reals...)
		out = append(out, st)
	}
	return out
}
