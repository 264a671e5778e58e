package agent

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
)

// trackValue is the last state of one track of an instance.
type trackValue struct {
	kind   plan.TrackKind
	weight int
	up     bool
}

// setTrack records a track's state and passes its effect to the router
// (replayed when a router that waited for its interface starts).
func (in *instance) setTrack(t plan.Track, up bool) {
	in.mu.Lock()
	if in.tracks == nil {
		in.tracks = map[string]trackValue{}
	}
	in.tracks[t.Key()] = trackValue{kind: t.Kind, weight: t.Weight, up: up}
	r := in.router
	in.mu.Unlock()
	if r != nil {
		delta, fault := trackEffect(t.Weight, up)
		r.SetTrack(t.Key(), delta, fault)
	}
}

func (in *instance) replayTracks() {
	in.mu.Lock()
	r, ts := in.router, make(map[string]trackValue, len(in.tracks))
	for k, v := range in.tracks {
		ts[k] = v
	}
	in.mu.Unlock()
	for key, v := range ts {
		delta, fault := trackEffect(v.weight, v.up)
		r.SetTrack(key, delta, fault)
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

// tracker is one track of one instance.
type tracker struct {
	in *instance
	t  plan.Track
}

// startTracking runs the track scripts (through a checks scheduler) and
// watches the tracked links.
func (a *agent) startTracking(ctx context.Context, g *errgroup.Group) error {
	users := map[plan.TrackKind]map[string][]tracker{plan.TrackScript: {}, plan.TrackInterface: {}}
	for _, in := range a.instances {
		for _, t := range in.plan.Tracks {
			users[t.Kind][t.Name] = append(users[t.Kind][t.Name], tracker{in, t})
		}
	}
	apply := func(kind plan.TrackKind, name string, up bool) {
		for _, u := range users[kind][name] {
			u.in.setTrack(u.t, up)
		}
	}
	sched := checks.NewScheduler(a.log.With("part", "track_script"))
	for _, s := range a.plan.Scripts {
		apply(plan.TrackScript, s.Name, true) // keepalived: a script is assumed good until it fails
		c, err := checks.NewExecChecker(s.Exec)
		if err != nil {
			a.log.Error("track script cannot run, treating it as failed", "check", s.Name, "err", err)
			apply(plan.TrackScript, s.Name, false)
			continue
		}
		sched.Add(s.Name, c, s.Params, func(_ string, st checks.State) { apply(plan.TrackScript, s.Name, st.Up) })
	}
	if sched.Len() > 0 {
		g.Go(func() error { return sched.Run(ctx) })
	}
	links := make([]string, 0, len(users[plan.TrackInterface]))
	for name := range users[plan.TrackInterface] {
		links = append(links, name)
	}
	if len(links) == 0 {
		return nil
	}
	err := a.host.WatchLinks(ctx, a.log, links, func(name string, up bool) {
		a.log.Info("tracked interface changed", "iface", name, "up", up)
		apply(plan.TrackInterface, name, up)
	})
	if err != nil {
		return fmt.Errorf("track_interface: %w", err)
	}
	return nil
}
