package holder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/providers"
)

// State is what the provider has done with the VIPs, for `vipd status`.
type State int

// States.
const (
	Idle      State = iota // never master
	Pending                // master, the VIP pending at the provider
	Confirmed              // master, the provider confirmed the VIP points here
	Error                  // master, the last attempt failed (retried)
	Released               // no longer master, VIPs released
	Fenced                 // master, but the VIP is owned elsewhere and a higher-priority master is heard
	DryRun                 // master in dry-run mode: every change was logged, none made
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Confirmed:
		return "confirmed"
	case Error:
		return "error"
	case Released:
		return "released"
	case Fenced:
		return "fenced"
	case DryRun:
		return "dry-run"
	}
	return ""
}

// Status is a snapshot for `vipd status`.
type Status struct {
	State       State
	ConfirmedAt time.Time
	LastErr     string
}

// Holder owns the VIPs of one VRRP instance: it acquires them through the
// instance's providers while the instance is master and releases them when it
// stops being master. It runs off the VRRP loop, so a slow cloud call never
// delays an advertisement.
//
// The local provider (netlink: address + GARP/NA) acts first, the cloud
// provider second; the cloud call is retried with the shared backoff until it
// succeeds or the instance leaves master, then verified until the cloud
// confirms ("VIP pending at provider"), then re-verified every drift interval.
type Holder struct {
	log   *slog.Logger
	vips  []providers.VIP
	local providers.Provider // nil with no_local_address
	cloud providers.Provider // nil for on-prem instances

	backoff       providers.Backoff
	callTimeout   time.Duration
	driftInterval time.Duration // 0: no drift checks
	verifyEvery   time.Duration // poll interval while pending
	garpRefresh   time.Duration // 0: no periodic re-announce
	garpDelay     time.Duration // second burst after becoming master (0: none)
	// fenced reports whether a higher-priority master was heard recently;
	// when non-nil (fence option), a VIP found elsewhere is not taken back.
	fenced func() bool
	// onConfirm, when set, gets the time from "master decided" to confirmed.
	onConfirm func(time.Duration)
	dryRun    bool
	routes    Routes

	want     chan bool     // latest desired mastership (cap 1, latest wins)
	announce chan struct{} // re-announce request (cap 1)
	changed  chan struct{} // SetVIPs changed the list (cap 1)
	added    chan struct{} // to the current term: acquire toAdd (cap 1)

	mu          sync.Mutex // guards vips, toAdd, toRemove and the status
	toAdd       []providers.VIP
	toRemove    []providers.VIP
	state       State
	confirmedAt time.Time
	lastErr     string
}

// Routes are an instance's virtual routes and rules (keepalived
// virtual_routes / virtual_rules).
type Routes interface {
	// Add adds (or restores) them; it is idempotent.
	Add(ctx context.Context) error
	// Remove removes what Add added.
	Remove(ctx context.Context) error
}

// Options are a Holder's settings beyond its VIPs and providers.
type Options struct {
	plan.Holder
	// Routes, when set, are added after the local VIPs while master and
	// removed before the VIPs are released (a route may use a VIP as its
	// source).
	Routes Routes
	// Fenced reports whether a higher-priority master was heard recently
	// (used with Holder.Fence).
	Fenced func() bool
	// OnConfirm gets the time from "master decided" to confirmed.
	OnConfirm func(time.Duration)
}

// New returns a Holder of vips; local or cloud may be nil.
func New(log *slog.Logger, vips []providers.VIP, local, cloud providers.Provider, o Options) *Holder {
	h := &Holder{
		log: log, vips: vips, local: local, cloud: cloud,
		backoff:     providers.DefaultBackoff,
		callTimeout: 5 * time.Second,
		verifyEvery: 500 * time.Millisecond,
		want:        make(chan bool, 1),
		announce:    make(chan struct{}, 1),
		changed:     make(chan struct{}, 1),
		added:       make(chan struct{}, 1),
		onConfirm:   o.OnConfirm,
	}
	if o.Backoff.Initial > 0 {
		h.backoff.Initial = o.Backoff.Initial
	}
	if o.Backoff.Max > 0 {
		h.backoff.Max = o.Backoff.Max
	}
	if o.CallTimeout > 0 {
		h.callTimeout = o.CallTimeout
	}
	h.driftInterval, h.garpRefresh, h.garpDelay = o.DriftInterval, o.GARPRefresh, o.GARPDelay
	h.dryRun, h.routes = o.DryRun, o.Routes
	if h.dryRun {
		h.driftInterval = 0 // nothing was moved: nothing can drift back
	}
	if o.Fence {
		h.fenced = o.Fenced
	}
	return h
}

// SetMaster tells the holder what the instance is now. It never blocks.
func (h *Holder) SetMaster(m bool) {
	select {
	case <-h.want:
	default:
	}
	h.want <- m
}

// currentVIPs returns the VIPs now configured.
func (h *Holder) currentVIPs() []providers.VIP {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.vips
}

// SetVIPs replaces the VIPs (a live reload). It never blocks. While master,
// the Holder acquires the added VIPs and releases the removed ones in place;
// the others are not touched.
func (h *Holder) SetVIPs(vips []providers.VIP) {
	h.mu.Lock()
	old := h.vips
	h.vips = slices.Clone(vips)
	for _, v := range vips {
		if !slices.Contains(old, v) {
			h.toAdd = append(h.toAdd, v)
		}
		h.toRemove = slices.DeleteFunc(h.toRemove, func(x providers.VIP) bool { return x == v })
	}
	for _, v := range old {
		if !slices.Contains(vips, v) {
			h.toRemove = append(h.toRemove, v)
			h.toAdd = slices.DeleteFunc(h.toAdd, func(x providers.VIP) bool { return x == v })
		}
	}
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// Reannounce asks for a fresh GARP/NA burst (after hearing another master).
func (h *Holder) Reannounce() {
	select {
	case h.announce <- struct{}{}:
	default:
	}
}

// Status returns the provider state for `vipd status`.
func (h *Holder) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Status{State: h.state, ConfirmedAt: h.confirmedAt, LastErr: h.lastErr}
}

func (h *Holder) set(state State, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state = state
	if err != nil {
		h.lastErr = err.Error()
	} else if state == Confirmed || state == Released {
		h.lastErr = ""
	}
	if state == Confirmed {
		h.confirmedAt = time.Now()
	}
}

// Run applies mastership changes until ctx ends; then, if it holds the VIPs,
// it releases them with a fresh bounded context.
func (h *Holder) Run(ctx context.Context) {
	type term struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var cur *term // the running master term, nil while not master
	stopMaster := func() {
		if cur == nil {
			return
		}
		cur.cancel()
		<-cur.done
		cur = nil
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		h.release(rctx)
		rcancel()
	}
	for {
		select {
		case <-ctx.Done():
			stopMaster()
			return
		case <-h.changed:
			h.mu.Lock()
			remove := h.toRemove
			h.toRemove = nil
			if cur == nil {
				h.toAdd = nil // acquired with the rest at the next term
			}
			h.mu.Unlock()
			if cur != nil {
				rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
				h.releaseVIPs(rctx, remove)
				rcancel()
				select {
				case h.added <- struct{}{}:
				default:
				}
			}
		case m := <-h.want:
			switch {
			case m && cur == nil:
				mctx, cancel := context.WithCancel(ctx)
				cur = &term{cancel: cancel, done: make(chan struct{})}
				go func(done chan struct{}) {
					defer close(done)
					h.hold(mctx)
				}(cur.done)
			case !m:
				stopMaster()
			}
		}
	}
}

// hold acquires the VIPs, waits for confirmation, then keeps them: drift
// repair, periodic and on-demand re-announcement.
func (h *Holder) hold(ctx context.Context) {
	h.acquire(ctx, h.currentVIPs())
	var drift, refresh, delay <-chan time.Time
	if h.cloud != nil && h.driftInterval > 0 {
		t := time.NewTicker(h.driftInterval)
		defer t.Stop()
		drift = t.C
	}
	if h.local != nil && h.garpRefresh > 0 {
		t := time.NewTicker(h.garpRefresh)
		defer t.Stop()
		refresh = t.C
	}
	if h.local != nil && h.garpDelay > 0 {
		t := time.NewTimer(h.garpDelay)
		defer t.Stop()
		delay = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.announce:
			h.reannounceLocal(ctx, "another master heard")
		case <-refresh:
			h.reannounceLocal(ctx, "garp master refresh")
		case <-delay:
			h.reannounceLocal(ctx, "garp master delay")
		case <-drift:
			h.checkDrift(ctx)
		case <-h.added:
			h.mu.Lock()
			add := h.toAdd
			h.toAdd = nil
			h.mu.Unlock()
			if len(add) > 0 {
				h.acquire(ctx, add)
			}
		}
	}
}

// acquire acquires vips (all of them at the start of a term, those added
// by SetVIPs during one).
func (h *Holder) acquire(ctx context.Context, vips []providers.VIP) {
	start := time.Now()
	if h.local != nil && !h.localAcquire(ctx, vips) {
		return
	}
	if h.routes != nil && !h.dryRun {
		// Failover does not wait on routes: a failure is logged and the
		// next acquisition (or reload) tries again.
		if err := h.routes.Add(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("virtual routes not all added", "err", err)
		}
	}
	if h.cloud == nil {
		if h.dryRun {
			h.set(DryRun, nil)
			return
		}
		h.log.Info("vip acquired", "provider", h.local.Name(), "took", time.Since(start))
		h.set(Confirmed, nil)
		return
	}
	h.set(Pending, nil)
	for _, v := range vips {
		if !h.waitFence(ctx, v) || !h.cloudAcquire(ctx, v) {
			return
		}
	}
	if h.dryRun {
		h.set(DryRun, nil)
		return
	}
	for _, v := range vips {
		if !h.waitConfirmed(ctx, v) {
			return
		}
	}
	took := time.Since(start)
	h.log.Info("vip confirmed by provider", "provider", h.cloud.Name(), "took", took)
	h.set(Confirmed, nil)
	if h.onConfirm != nil {
		h.onConfirm(took)
	}
}

// localAcquire puts every VIP on the local interface, retrying a failed one
// with the backoff until it succeeds or the term ends (e.g. the interface
// comes back, or a capability was missing). It reports whether all succeeded.
func (h *Holder) localAcquire(ctx context.Context, vips []providers.VIP) bool {
	for _, v := range vips {
		for attempt := 1; ; attempt++ {
			err := h.local.Acquire(ctx, v)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return false
			}
			if attempt == 1 {
				h.log.Error("acquire vip failed, retrying", "provider", h.local.Name(), "vip", v.Prefix, "iface", v.Interface, "err", err)
			}
			h.set(Error, fmt.Errorf("%s: %w", v.Prefix, err))
			if !providers.Sleep(ctx, h.backoff.Delay(attempt, rand.Float64)) {
				return false
			}
		}
	}
	return true
}

// waitFence implements split-brain fencing on becoming master: while the VIP
// is owned elsewhere at the cloud and a higher-priority master was heard
// recently, write nothing and look again every verifyEvery. A partition that
// heals brings that master's adverts back and the router returns to backup
// (ending this term, nothing written); a master that stays silent ages out of
// the window and this node takes the VIP. It reports whether to go on.
func (h *Holder) waitFence(ctx context.Context, v providers.VIP) bool {
	ver, ok := h.cloud.(providers.Verifier)
	if h.fenced == nil || !ok {
		return true
	}
	for logged := false; h.fenced(); {
		cctx, cancel := context.WithTimeout(ctx, h.callTimeout)
		own, err := ver.Verify(cctx, v)
		cancel()
		if err == nil && own.Here {
			return true
		}
		if !logged {
			h.log.Warn("vip owned elsewhere and a higher-priority master was heard recently: waiting (fence)",
				"provider", h.cloud.Name(), "vip", v.Prefix, "owner", own.Owner, "err", err)
			h.set(Fenced, nil)
			logged = true
		}
		if !providers.Sleep(ctx, h.verifyEvery) {
			return false
		}
	}
	h.set(Pending, nil)
	return true
}

// cloudAcquire retries one VIP's Acquire until it succeeds, fails for good, or
// ctx ends. It reports whether it succeeded.
func (h *Holder) cloudAcquire(ctx context.Context, v providers.VIP) bool {
	log := h.log.With("provider", h.cloud.Name(), "vip", v.Prefix)
	err := providers.Retry(ctx, log, h.backoff, h.callTimeout, "acquire", func(ctx context.Context) error {
		return h.cloud.Acquire(ctx, v)
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("acquire vip failed", "err", err)
			h.set(Error, err)
		}
		return false
	}
	return true
}

// waitConfirmed polls Verify until the provider says the VIP points here.
func (h *Holder) waitConfirmed(ctx context.Context, v providers.VIP) bool {
	ver, ok := h.cloud.(providers.Verifier)
	if !ok {
		return true
	}
	log := h.log.With("provider", h.cloud.Name(), "vip", v.Prefix)
	for attempt := 1; ; attempt++ {
		var own providers.Ownership
		err := providers.Retry(ctx, log, h.backoff, h.callTimeout, "verify", func(ctx context.Context) error {
			var err error
			own, err = ver.Verify(ctx, v)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				h.set(Error, err)
			}
			return false
		}
		if own.Here {
			return true
		}
		if attempt == 1 || attempt%20 == 0 {
			log.Info("vip pending at provider", "owner", own.Owner, "detail", own.Detail)
		}
		if !providers.Sleep(ctx, h.verifyEvery) {
			return false
		}
	}
}

// checkDrift re-reads the cloud and takes a VIP back if it was moved away
// while this node is master (unless fenced by a higher-priority master).
func (h *Holder) checkDrift(ctx context.Context) {
	ver, ok := h.cloud.(providers.Verifier)
	if !ok {
		return
	}
	for _, v := range h.currentVIPs() {
		cctx, cancel := context.WithTimeout(ctx, h.callTimeout)
		own, err := ver.Verify(cctx, v)
		cancel()
		if err != nil {
			h.log.Warn("drift check failed", "provider", h.cloud.Name(), "vip", v.Prefix, "err", err)
			continue
		}
		if own.Here {
			continue
		}
		if h.fenced != nil && h.fenced() {
			h.log.Warn("vip owned elsewhere and a higher-priority master is heard: not taking it back (fence)",
				"provider", h.cloud.Name(), "vip", v.Prefix, "owner", own.Owner)
			h.set(Fenced, nil)
			continue
		}
		h.log.Warn("vip moved away while master: taking it back", "provider", h.cloud.Name(), "vip", v.Prefix, "owner", own.Owner, "detail", own.Detail)
		h.set(Pending, nil)
		if h.cloudAcquire(ctx, v) && h.waitConfirmed(ctx, v) {
			h.set(Confirmed, nil)
			h.log.Info("vip confirmed by provider", "provider", h.cloud.Name(), "vip", v.Prefix)
		}
	}
}

func (h *Holder) reannounceLocal(ctx context.Context, why string) {
	a, ok := h.local.(providers.Announcer)
	if !ok {
		return
	}
	for _, v := range h.currentVIPs() {
		if err := a.Announce(ctx, v); err != nil && !errors.Is(err, context.Canceled) {
			h.log.Warn("announce failed", "vip", v.Prefix, "reason", why, "err", err)
		}
	}
	h.log.Debug("vips re-announced", "reason", why)
}

// release gives the VIPs up: local addresses are removed; the cloud provider
// is told too (for the modes where the next master takes over, that is a
// no-op at the cloud).
func (h *Holder) release(ctx context.Context) {
	if h.routes != nil && !h.dryRun {
		if err := h.routes.Remove(ctx); err != nil {
			h.log.Error("virtual routes not all removed", "err", err)
		}
	}
	h.releaseVIPs(ctx, h.currentVIPs())
	h.set(Released, nil)
}

// releaseVIPs gives vips up (see release).
func (h *Holder) releaseVIPs(ctx context.Context, vips []providers.VIP) {
	for _, v := range vips {
		if h.cloud != nil {
			if err := h.cloud.Release(ctx, v); err != nil {
				h.log.Warn("release vip at provider failed", "provider", h.cloud.Name(), "vip", v.Prefix, "err", err)
			}
		}
		if h.local != nil {
			if err := h.local.Release(ctx, v); err != nil {
				h.log.Error("release vip failed", "provider", h.local.Name(), "vip", v.Prefix, "err", err)
				h.set(Error, err)
				continue
			}
		}
	}
}

// Cleanup removes VIPs a previous run left behind (kill -9), before the
// instance may become master.
func (h *Holder) Cleanup(ctx context.Context) {
	c, ok := h.local.(providers.Cleaner)
	if !ok {
		return
	}
	for _, v := range h.currentVIPs() {
		if err := c.Cleanup(ctx, v); err != nil {
			h.log.Warn("cleanup of stale vip failed", "vip", v.Prefix, "iface", v.Interface, "err", err)
		}
	}
}
