package configs

import (
	"os"
	"time"
)

// DefaultConfig returns the defaults of the node-wide settings; list
// elements get theirs from DefaultInstance, DefaultScript, … when loaded.
func DefaultConfig() *Config {
	return &Config{Global: DefaultGlobal()}
}

// DefaultGlobal returns the global defaults. Node is the host name.
func DefaultGlobal() Global {
	host, _ := os.Hostname()
	return Global{
		Node:         host,
		LogFormat:    "text",
		LogLevel:     "info",
		StatusSocket: "/run/vipd/vipd.sock",
		SMTP:         SMTP{Port: 25, Timeout: 30 * time.Second},
		Webhook:      Webhook{Timeout: 10 * time.Second},
	}
}

// DefaultRoute returns a route's defaults (type unicast, main table).
func DefaultRoute() Route {
	return Route{Type: RouteUnicast}
}

// DefaultScript returns a script's defaults (keepalived: interval 1s,
// rise/fall 1).
func DefaultScript() Script {
	return Script{Interval: time.Second, Rise: 1, Fall: 1}
}

// DefaultInstance returns an instance's defaults: VRRP v3 (keepalived uses
// v2), priority 100, advert 1s, preempt on, GARP 5×200ms plus a second burst
// after 5s, netlink provider.
func DefaultInstance() Instance {
	return Instance{
		Version:        3,
		Priority:       100,
		State:          "BACKUP",
		AdvertInterval: time.Second,
		Preempt:        true,
		GARP:           GARP{Count: 5, Interval: 200 * time.Millisecond, MasterDelay: 5 * time.Second},
		Provider:       DefaultProvider(),
		BFD:            BFD{Multiplier: 3},
	}
}

// DefaultProvider returns the provider defaults (netlink).
func DefaultProvider() Provider {
	return Provider{
		Type:               ProviderNetlink,
		CallTimeout:        5 * time.Second,
		DriftCheckInterval: 10 * time.Second,
		Backoff:            Backoff{Initial: 200 * time.Millisecond, Max: 10 * time.Second},
	}
}

// DefaultVirtualServer returns a virtual server's defaults (keepalived: wlc,
// NAT, delay_loop 60s, quorum 1).
func DefaultVirtualServer() VirtualServer {
	return VirtualServer{
		Protocol:   "TCP",
		Scheduler:  "wlc",
		Forwarding: "NAT",
		DelayLoop:  60 * time.Second,
		Quorum:     1,
	}
}

// DefaultRealServer returns a real server's defaults (weight 1).
func DefaultRealServer() RealServer {
	return RealServer{Weight: 1}
}

// DefaultCheck returns a check's defaults (keepalived: connect_timeout 5s,
// retry 1, delay_before_retry 1s).
func DefaultCheck() Check {
	return Check{
		ConnectTimeout:   5 * time.Second,
		Retry:            1,
		DelayBeforeRetry: time.Second,
		Rise:             1,
		Fall:             1,
	}
}

// DefaultBFDInstance returns a bfd_instance's defaults (keepalived's: 10ms
// intervals, multiplier 5).
func DefaultBFDInstance() BFDInstance {
	return BFDInstance{MinRx: 10 * time.Millisecond, MinTx: 10 * time.Millisecond, Multiplier: 5}
}
