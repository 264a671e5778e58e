package alert

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Kind is what an Event is about.
type Kind int

// Event kinds, after keepalived's SMTP_MSG_VRRP, SMTP_MSG_VGROUP and
// SMTP_MSG_RS.
const (
	KindInstance   Kind = iota + 1 // a VRRP instance changed state
	KindSyncGroup                  // a VRRP sync group changed state
	KindRealServer                 // a real server went up or down
)

func (k Kind) String() string {
	switch k {
	case KindInstance:
		return "instance"
	case KindSyncGroup:
		return "sync_group"
	case KindRealServer:
		return "real_server"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// State is the state an Event reports, in keepalived's words.
type State string

// VRRP states (KindInstance, KindSyncGroup) and real-server states
// (KindRealServer).
const (
	StateMaster  State = "MASTER"
	StateBackup  State = "BACKUP"
	StateFault   State = "FAULT"
	StateStop    State = "STOP"    // the instance or group is stopping
	StateDeleted State = "DELETED" // the instance was removed at reload
	StateUp      State = "UP"
	StateDown    State = "DOWN"
)

// Event is one alert.
type Event struct {
	Kind Kind
	// Name is the VRRP instance or sync-group name, or for KindRealServer
	// the real server as keepalived writes it: "[192.0.2.21]:tcp:80".
	Name string
	// VirtualServer is the real server's virtual server (KindRealServer
	// only): "[192.0.2.100]:tcp:80" or "FWM 7".
	VirtualServer string
	State         State
	// Detail replaces the default body line, e.g. keepalived's
	// "=> TCP CHECK failed on service <=". Optional.
	Detail string
	// Time is when it happened; zero: when Send was called.
	Time time.Time
}

// Subject returns the mail subject, as keepalived's smtp_alert() formats
// it. routerID is global router_id; empty leaves out the "[…] " prefix.
func (e Event) Subject(routerID string) string {
	var s string
	switch e.Kind {
	case KindInstance:
		s = "VRRP Instance " + e.Name + " - " + vrrpSubject(e.State)
	case KindSyncGroup:
		s = "VRRP Group " + e.Name + " - " + vrrpSubject(e.State)
	case KindRealServer:
		s = "Realserver " + e.Name + " of virtual server " + e.VirtualServer + " - " + string(e.State)
	default:
		s = e.Name + " - " + string(e.State)
	}
	if routerID != "" {
		s = "[" + routerID + "] " + s
	}
	return s
}

func vrrpSubject(s State) string {
	switch s {
	case StateStop:
		return "Stopping"
	case StateDeleted:
		return "Deleted"
	}
	return "Entering " + string(s) + " state"
}

// Body returns the mail body: Detail if set, else keepalived's text.
func (e Event) Body() string {
	if e.Detail != "" {
		return e.Detail
	}
	switch e.Kind {
	case KindInstance:
		switch e.State {
		case StateMaster:
			return "=> VRRP Instance is now owning VRRP VIPs <="
		case StateBackup, StateFault:
			return "=> VRRP Instance is no longer owning VRRP VIPs <="
		case StateStop:
			return "=> VRRP Instance stopping <="
		case StateDeleted:
			return "=> VRRP Deleted at reload <="
		}
	case KindSyncGroup:
		switch e.State {
		case StateStop:
			return "=> All VRRP group instances are now stopping <="
		default:
			return "=> All VRRP group instances are now in " + string(e.State) + " state <="
		}
	case KindRealServer:
		if e.State == StateUp {
			return "=> CHECK succeed on service <="
		}
		return "=> CHECK failed on service <="
	}
	return "=> " + string(e.State) + " <="
}

// key identifies the object an event is about, for the last-state filter.
type key struct {
	kind     Kind
	name, vs string
}

func (e Event) key() key { return key{e.Kind, e.Name, e.VirtualServer} }

// Service formats a virtual or real server as keepalived's
// inet_sockaddrtotrio() does, for Event.Name and Event.VirtualServer:
// "[192.0.2.21]:tcp:80", "[2001:db8::21]:udp:53". proto is "tcp", "udp" or
// "sctp".
func Service(ap netip.AddrPort, proto string) string {
	return "[" + ap.Addr().Unmap().String() + "]:" + proto + ":" + strconv.Itoa(int(ap.Port()))
}

// FWMService formats a firewall-mark virtual server as keepalived does:
// "FWM 7".
func FWMService(mark uint32) string { return "FWM " + strconv.FormatUint(uint64(mark), 10) }
