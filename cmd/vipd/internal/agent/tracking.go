package agent

import (
	"context"
	"fmt"
	"net"

	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/vipd/vipd/checks"
)

// trackValue is the last state of one track of an instance.
type trackValue struct {
	delta int
	fault bool
	up    bool
	kind  string // script, interface
	w     int
}

// setTrack records a track's effect and passes it to the router (replayed
// when a router that waited for its interface starts).
func (in *instance) setTrack(name, kind string, weight int, up bool) {
	delta, fault := trackEffect(weight, up)
	in.mu.Lock()
	if in.tracks == nil {
		in.tracks = map[string]trackValue{}
	}
	in.tracks[name] = trackValue{delta: delta, fault: fault, up: up, kind: kind, w: weight}
	r := in.router
	in.mu.Unlock()
	if r != nil {
		r.SetTrack(name, delta, fault)
	}
}

func (in *instance) replayTracks() {
	in.mu.Lock()
	r, ts := in.router, make(map[string]trackValue, len(in.tracks))
	for k, v := range in.tracks {
		ts[k] = v
	}
	in.mu.Unlock()
	for name, v := range ts {
		r.SetTrack(name, v.delta, v.fault)
	}
}

// trackEffect is keepalived's rule: weight 0 → down means FAULT; weight > 0
// is added while up; weight < 0 is added (subtracted) while down.
func trackEffect(weight int, up bool) (delta int, fault bool) {
	switch {
	case weight == 0:
		return 0, !up
	case weight > 0 && up:
		return weight, false
	case weight < 0 && !up:
		return weight, false
	}
	return 0, false
}

// startTracking runs the track scripts (through the checks scheduler) and
// watches the tracked links.
func (a *agent) startTracking(ctx context.Context, g *errgroup.Group) error {
	// As keepalived (without sync_group_tracking_weight): a track of an
	// instance in a sync group has no weight, its failure is a FAULT, so
	// that the whole group moves instead of one member's priority.
	grouped := map[string]bool{}
	for _, sg := range a.cfg.SyncGroups {
		for _, name := range sg.Instances {
			grouped[name] = true
		}
	}
	weight := func(in *instance, track string, w int) int {
		if w != 0 && grouped[in.cfg.Name] {
			a.log.Warn("track weight ignored in a sync group: a failure puts the group in FAULT",
				"instance", in.cfg.Name, "check", track, "weight", w)
			return 0
		}
		return w
	}
	sched := checks.NewScheduler(a.log.With("part", "track_script"))
	used := 0
	for _, s := range a.cfg.Scripts {
		type user struct {
			in *instance
			w  int
		}
		var users []user
		for _, in := range a.instances {
			for _, ts := range in.cfg.TrackScripts {
				if ts.Name == s.Name {
					w := ts.Weight
					if w == 0 {
						w = s.Weight
					}
					users = append(users, user{in, weight(in, s.Name, w)})
				}
			}
		}
		if len(users) == 0 {
			continue
		}
		name := "script " + s.Name
		apply := func(up bool) {
			for _, u := range users {
				u.in.setTrack(name, "script", u.w, up)
			}
		}
		apply(true) // keepalived: a script is assumed good until it fails
		usr := s.User
		if usr == "" {
			usr = a.cfg.Global.ScriptUser
		}
		c, err := checks.NewExecChecker(checks.ExecConfig{Command: s.Command, Timeout: s.Timeout,
			User: usr, Security: a.cfg.Global.EnableScriptSecurity})
		if err != nil {
			a.log.Error("track script cannot run, treating it as failed", "check", s.Name, "err", err)
			apply(false)
			continue
		}
		used++
		sched.Add(s.Name, c, checks.Params{Interval: s.Interval, Timeout: s.Timeout, Rise: s.Rise, Fall: s.Fall, InitialUp: true},
			func(_ string, st checks.State) { apply(st.Up) })
	}
	if used > 0 {
		g.Go(func() error { return sched.Run(ctx) })
	}

	links := map[string][]struct {
		in *instance
		w  int
	}{}
	for _, in := range a.instances {
		for _, ti := range in.cfg.TrackInterfaces {
			links[ti.Name] = append(links[ti.Name], struct {
				in *instance
				w  int
			}{in, weight(in, ti.Name, ti.Weight)})
		}
	}
	if len(links) == 0 {
		return nil
	}
	apply := func(name string, up bool) {
		for _, u := range links[name] {
			u.in.setTrack("interface "+name, "interface", u.w, up)
		}
	}
	// Initial state: a missing link is down.
	for name := range links {
		l, err := vnl.LinkByName(name)
		apply(name, err == nil && linkUp(l))
	}
	updates := make(chan vnl.LinkUpdate, 64)
	done := make(chan struct{})
	if err := vnl.LinkSubscribeWithOptions(updates, done, vnl.LinkSubscribeOptions{
		ErrorCallback: func(err error) { a.log.Error("link watch failed", "err", err) },
	}); err != nil {
		close(done)
		return fmt.Errorf("track_interface: subscribe to link changes: %w", err)
	}
	g.Go(func() error {
		defer close(done)
		last := map[string]bool{}
		for {
			select {
			case <-ctx.Done():
				return nil
			case u, ok := <-updates:
				if !ok {
					return nil
				}
				name := u.Attrs().Name
				if _, tracked := links[name]; !tracked {
					continue
				}
				up := u.Header.Type != unix.RTM_DELLINK && linkUp(u.Link)
				if prev, seen := last[name]; seen && prev == up {
					continue
				}
				last[name] = up
				a.log.Info("tracked interface changed", "iface", name, "up", up)
				apply(name, up)
			}
		}
	})
	return nil
}

// linkUp: administratively up and carrier (oper state up, or unknown for
// links without carrier reporting such as dummy).
func linkUp(l vnl.Link) bool {
	at := l.Attrs()
	if at.Flags&net.FlagUp == 0 {
		return false
	}
	return at.OperState == vnl.OperUp || at.OperState == vnl.OperUnknown
}
