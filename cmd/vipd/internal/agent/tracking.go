package agent

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

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

// tracking runs the track scripts (one checks scheduler) and watches the
// tracked links, and passes each state to every instance that tracks it,
// looked up when the state changes (a reload adds and removes instances).
type tracking struct {
	a          *agent
	sched      *checks.Scheduler
	linkCancel context.CancelFunc // stops the link watch

	mu      sync.Mutex
	scripts map[string]plan.Script // running, by name
	links   []string               // watched, sorted
	states  map[string]bool        // by track key
}

func newTracking(a *agent) *tracking {
	return &tracking{a: a, scripts: map[string]plan.Script{}, states: map[string]bool{}}
}

// state is the last state of a track: a script or BFD session is assumed
// good until it fails (keepalived), a link unknown yet is down.
func (tr *tracking) state(t plan.Track) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	up, ok := tr.states[t.Key()]
	if !ok {
		return t.Kind != plan.TrackInterface
	}
	return up
}

func (tr *tracking) set(kind plan.TrackKind, name string, up bool) {
	t := plan.Track{Kind: kind, Name: name}
	tr.mu.Lock()
	tr.states[t.Key()] = up
	tr.mu.Unlock()
	tr.a.mu.RLock()
	ins := slices.Clone(tr.a.instances)
	tr.a.mu.RUnlock()
	for _, in := range ins {
		for _, it := range in.currentPlan().Tracks {
			if it.Kind == kind && it.Name == name {
				in.setTrack(it, up)
			}
		}
	}
}

// attach gives a new instance the current state of each of its tracks.
func (tr *tracking) attach(in *instance) {
	for _, t := range in.plan.Tracks {
		in.setTrack(t, tr.state(t))
	}
}

// update makes the running scripts and link watch those of p: a script
// whose settings are unchanged keeps running with its state.
func (tr *tracking) update(ctx context.Context, p *plan.Plan) error {
	if tr.sched == nil {
		tr.sched = checks.NewScheduler(tr.a.log.With("part", "track_script"))
		tr.a.aux.Go(func() error { return tr.sched.Run(ctx) })
	}
	want := map[string]plan.Script{}
	for _, s := range p.Scripts {
		want[s.Name] = s
	}
	for name, s := range tr.scripts {
		if w, ok := want[name]; !ok || !reflect.DeepEqual(w, s) {
			tr.sched.Remove(name)
			delete(tr.scripts, name)
		}
	}
	for name, s := range want {
		if _, ok := tr.scripts[name]; ok {
			continue
		}
		tr.scripts[name] = s
		tr.set(plan.TrackScript, name, true)
		c, err := checks.NewExecChecker(s.Exec)
		if err != nil {
			tr.a.log.Error("track script cannot run, treating it as failed", "check", name, "err", err)
			tr.set(plan.TrackScript, name, false)
			continue
		}
		tr.sched.Add(name, c, s.Params, func(_ string, st checks.State) { tr.set(plan.TrackScript, name, st.Up) })
	}
	for _, t := range p.BFDTracks {
		if err := tr.a.openBFD(); err != nil {
			return fmt.Errorf("track_bfd: %w", err)
		}
		tr.a.bfd.track(t)
	}
	var links []string
	for _, in := range p.Instances {
		for _, t := range in.Tracks {
			if t.Kind == plan.TrackInterface && !slices.Contains(links, t.Name) {
				links = append(links, t.Name)
			}
		}
	}
	slices.Sort(links)
	if slices.Equal(links, tr.links) {
		return nil
	}
	tr.links = links
	if tr.linkCancel != nil {
		tr.linkCancel()
		tr.linkCancel = nil
	}
	if len(links) == 0 {
		return nil
	}
	lctx, cancel := context.WithCancel(ctx)
	tr.linkCancel = cancel
	err := tr.a.host.WatchLinks(lctx, tr.a.log, links, func(name string, up bool) {
		tr.a.log.Info("tracked interface changed", "iface", name, "up", up)
		tr.set(plan.TrackInterface, name, up)
	})
	if err != nil {
		return fmt.Errorf("track_interface: %w", err)
	}
	return nil
}
