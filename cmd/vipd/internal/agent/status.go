package agent

import "time"

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
}

// TrackStatus is one track_script / track_interface of an instance.
type TrackStatus struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // script, interface
	Up     bool   `json:"up"`
	Weight int    `json:"weight"`
}

// ServiceStatus is one LVS virtual service.
type ServiceStatus struct {
	Name        string       `json:"name"` // e.g. TCP 192.0.2.100:80 or FWM 1
	Scheduler   string       `json:"scheduler"`
	Active      bool         `json:"active"` // programmed in the kernel
	RealServers []RealStatus `json:"real_servers"`
}

// RealStatus is one real server of a virtual service.
type RealStatus struct {
	Address     string `json:"address"`
	Weight      int    `json:"weight"`
	Healthy     bool   `json:"healthy"`
	CheckReason string `json:"check_reason,omitempty"`
	ActiveConns int    `json:"active_conns"`
	InactConns  int    `json:"inact_conns"`
}

// status builds the snapshot served on the status socket.
func (a *agent) status() Status {
	st := Status{Node: a.cfg.Global.Node, Version: VersionString(), StartedAt: a.startedAt}
	for _, in := range a.instances {
		is := InstanceStatus{
			Name: in.cfg.Name, Interface: in.cfg.Interface, VRID: in.cfg.VRID, Version: in.cfg.Version,
			State: "INIT", Priority: in.cfg.Priority, EffectivePriority: in.cfg.Priority, Provider: in.provider,
			SyncGroup: in.group,
		}
		for _, v := range in.cfg.VIPs {
			is.VIPs = append(is.VIPs, v.String())
		}
		in.mu.Lock()
		r, waitErr := in.router, in.waitErr
		for name, tv := range in.tracks {
			is.Tracks = append(is.Tracks, TrackStatus{Name: name, Kind: tv.kind, Up: tv.up, Weight: tv.w})
		}
		in.mu.Unlock()
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
		is.ProviderState, is.ConfirmedAt, is.ProviderError = in.holder.status()
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
	if a.lvs != nil {
		st.Services = a.lvs.status()
	}
	return st
}
