package agent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/director"
)

// Status is what `vipd status` reads from the running agent over its unix
// socket (GET /status, JSON). Field names are part of the CLI's --json output.
type Status struct {
	Node      string           `json:"node"`
	Version   string           `json:"version"`
	StartedAt time.Time        `json:"started_at"`
	Instances []InstanceStatus `json:"instances"`
	Services  []ServiceStatus  `json:"services,omitempty"`
	// Drops counts received packets dropped before they could be matched to
	// an instance (malformed, checksum, ttl, vrid_unknown, …), by reason.
	Drops map[string]int64 `json:"drops,omitempty"`
	// Alerts counts e-mail / webhook alerts; nil when none is configured.
	Alerts *AlertStatus `json:"alerts,omitempty"`
	// Reloads counts configuration reloads applied since start.
	Reloads int `json:"reloads"`
}

// AlertStatus counts the alerts of the agent.
type AlertStatus struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"`
}

// InstanceStatus is one VRRP instance.
type InstanceStatus struct {
	Name              string    `json:"name"`
	Interface         string    `json:"interface"`
	VRID              int       `json:"vrid"`
	Version           int       `json:"version"`
	State             string    `json:"state"` // INIT, BACKUP, MASTER, FAULT
	Priority          int       `json:"priority"`
	EffectivePriority int       `json:"effective_priority"`
	Master            string    `json:"master,omitempty"` // address of the master we hear, or ours
	VIPs              []string  `json:"vips"`
	Since             time.Time `json:"since"`
	Reason            string    `json:"reason,omitempty"` // why the last transition happened
	Provider          string    `json:"provider"`
	// ProviderState: "", "pending" (master, VIP pending at provider),
	// "confirmed", "error", "released".
	ProviderState string           `json:"provider_state,omitempty"`
	ConfirmedAt   time.Time        `json:"confirmed_at,omitempty"`
	ProviderError string           `json:"provider_error,omitempty"`
	SyncGroup     string           `json:"sync_group,omitempty"`
	Drops         map[string]int64 `json:"drops,omitempty"` // dropped packets by reason
	Tracks        []TrackStatus    `json:"tracks,omitempty"`
	// Routes are the instance's virtual routes and rules (added while
	// master), as text.
	Routes []string `json:"routes,omitempty"`
	// BFD is the instance's BFD setting ("50ms x3"), "" without.
	BFD string `json:"bfd,omitempty"`
}

// TrackStatus is one track_script / track_interface of an instance.
type TrackStatus struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // script, interface
	Up     bool   `json:"up"`
	Weight int    `json:"weight"`
}

// ServiceStatus is one LVS virtual service.
type ServiceStatus = director.ServiceStatus

// RealStatus is one real server of a virtual service.
type RealStatus = director.RealStatus

// status builds the snapshot served on the status socket.
func (a *agent) status() Status {
	st := Status{Node: a.plan.Global.Node, Version: VersionString(), StartedAt: a.startedAt}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, in := range a.instances {
		pi := in.plan
		is := InstanceStatus{
			Name: pi.Name, Interface: pi.Interface, VRID: int(pi.Router.VRID), Version: int(pi.Router.Version),
			State: "INIT", Priority: int(pi.Router.Priority), EffectivePriority: int(pi.Router.Priority),
			Provider: pi.Provider.Kind.String(), SyncGroup: pi.SyncGroup,
		}
		for _, v := range pi.VIPs {
			vs := v.Prefix.String()
			if v.Interface != pi.Interface {
				vs += " dev " + v.Interface
			}
			is.VIPs = append(is.VIPs, vs)
		}
		for _, r := range pi.Routes {
			is.Routes = append(is.Routes, r.String())
		}
		for _, r := range pi.Rules {
			is.Routes = append(is.Routes, "rule "+r.String())
		}
		if b := pi.BFD; b != nil {
			is.BFD = fmt.Sprintf("%v x%d", b.Interval, b.Multiplier)
		}
		in.mu.Lock()
		r, waitErr := in.router, in.waitErr
		for name, tv := range in.tracks {
			is.Tracks = append(is.Tracks, TrackStatus{Name: name, Kind: tv.kind.String(), Up: tv.up, Weight: tv.weight})
		}
		in.mu.Unlock()
		slices.SortFunc(is.Tracks, func(x, y TrackStatus) int { return strings.Compare(x.Name, y.Name) })
		if r != nil {
			rs := r.Status()
			is.State = rs.State.String()
			is.EffectivePriority = int(rs.EffectivePriority)
			if rs.Master.IsValid() {
				is.Master = rs.Master.String()
			}
			is.Since, is.Reason = rs.Since, rs.Reason
			is.Drops = rs.Drops
		} else if waitErr != "" {
			is.State, is.Reason = "FAULT", waitErr
		}
		hs := in.holder.Status()
		is.ProviderState, is.ConfirmedAt, is.ProviderError = hs.State.String(), hs.ConfirmedAt, hs.LastErr
		st.Instances = append(st.Instances, is)
	}
	for _, c := range a.wireDrops {
		for r, n := range c.Snapshot() {
			if n == 0 {
				continue
			}
			if st.Drops == nil {
				st.Drops = map[string]int64{}
			}
			st.Drops[r] += n
		}
	}
	if a.director != nil {
		st.Services = a.director.Status()
	}
	if a.alerts != nil {
		as := a.alerts.Stats()
		st.Alerts = &AlertStatus{Sent: as.Sent, Failed: as.Failed, Dropped: as.Dropped}
	}
	st.Reloads = a.reloaded
	return st
}
