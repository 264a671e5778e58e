package lvs

import (
	"log/slog"
	"net/netip"
)

// Config configures a Reconciler.
type Config struct {
	// Logger receives the reconciler's logs (default: discarded).
	Logger *slog.Logger
	// Metrics counts kernel calls (default: a private one).
	Metrics *Metrics
	// OnQuorum is called when a service gains (up=true) or loses its
	// quorum. It runs after the kernel was updated, without locks held, on
	// the goroutine that called Reconcile or SetActive, one call at a time;
	// it must not block (run quorum_up/quorum_down commands asynchronously).
	// As keepalived, the first evaluation reports only a lost quorum.
	OnQuorum func(st ServiceState, up bool)
}

// ServiceStatus is one virtual service as `vipd status` shows it.
type ServiceStatus struct {
	Service    string // e.g. "TCP 192.0.2.100:80" or "FWM 3"
	Scheduler  string
	Instance   string // linked VRRP instance, if any
	Programmed bool   // present in the kernel
	QuorumUp   bool
	Reals      []RealStatus
}

// RealStatus is one real server (or the sorry server) of a service.
type RealStatus struct {
	Address      netip.AddrPort
	Weight       int // configured
	KernelWeight int // programmed; -1 when not in the kernel
	Healthy      bool
	Sorry        bool // the sorry_server
	ActiveConns  int
	InactConns   int
}
