package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vipd/vipd/providers"
)

// holder owns the VIPs of one VRRP instance: it acquires them through the
// instance's providers while the instance is master and releases them when it
// stops being master. It runs off the VRRP loop, so a slow cloud call never
// delays an advertisement.
//
// The local provider (netlink: address + GARP/NA) acts first, the cloud
// provider second; the cloud call is retried with the shared backoff until it
// succeeds or the instance leaves master, then verified until the cloud
// confirms ("VIP pending at provider"), then re-verified every drift interval.
type holder struct {
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

	want     chan bool     // latest desired mastership (cap 1, latest wins)
	announce chan struct{} // re-announce request (cap 1)

	mu          sync.Mutex
	state       string // "", pending, confirmed, error, released, fenced
	confirmedAt time.Time
	lastErr     string
}

func newHolder(log *slog.Logger, vips []providers.VIP, local, cloud providers.Provider) *holder {
	return &holder{
		log: log, vips: vips, local: local, cloud: cloud,
		backoff:     providers.DefaultBackoff,
		callTimeout: 5 * time.Second,
		verifyEvery: 500 * time.Millisecond,
		want:        make(chan bool, 1),
		announce:    make(chan struct{}, 1),
	}
}

// setMaster tells the holder what the instance is now. It never blocks.
func (h *holder) setMaster(m bool) {
	select {
	case <-h.want:
	default:
	}
	h.want <- m
}

// reannounce asks for a fresh GARP/NA burst (after hearing another master).
func (h *holder) reannounce() {
	select {
	case h.announce <- struct{}{}:
	default:
	}
}

// status returns the provider state for `vipd status`.
func (h *holder) status() (state string, confirmedAt time.Time, lastErr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state, h.confirmedAt, h.lastErr
}

func (h *holder) set(state string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state = state
	if err != nil {
		h.lastErr = err.Error()
	} else if state == "confirmed" || state == "released" {
		h.lastErr = ""
	}
	if state == "confirmed" {
		h.confirmedAt = time.Now()
	}
}

// run applies mastership changes until ctx ends; then, if it holds the VIPs,
// it releases them with a fresh bounded context.
func (h *holder) run(ctx context.Context) {
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
func (h *holder) hold(ctx context.Context) {
	h.acquire(ctx)
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
		}
	}
}

func (h *holder) acquire(ctx context.Context) {
	start := time.Now()
	if h.local != nil && !h.localAcquire(ctx) {
		return
	}
	if h.cloud == nil {
		h.log.Info("vip acquired", "provider", h.local.Name(), "took", time.Since(start))
		h.set("confirmed", nil)
		return
	}
	h.set("pending", nil)
	for _, v := range h.vips {
		if !h.waitFence(ctx, v) || !h.cloudAcquire(ctx, v) {
			return
		}
	}
	for _, v := range h.vips {
		if !h.waitConfirmed(ctx, v) {
			return
		}
	}
	took := time.Since(start)
	h.log.Info("vip confirmed by provider", "provider", h.cloud.Name(), "took", took)
	h.set("confirmed", nil)
	if h.onConfirm != nil {
		h.onConfirm(took)
	}
}

// localAcquire puts every VIP on the local interface, retrying a failed one
// with the backoff until it succeeds or the term ends (e.g. the interface
// comes back, or a capability was missing). It reports whether all succeeded.
func (h *holder) localAcquire(ctx context.Context) bool {
	for _, v := range h.vips {
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
			h.set("error", fmt.Errorf("%s: %w", v.Prefix, err))
			t := time.NewTimer(h.backoff.Delay(attempt, rand.Float64))
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
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
func (h *holder) waitFence(ctx context.Context, v providers.VIP) bool {
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
			h.set("fenced", nil)
			logged = true
		}
		t := time.NewTimer(h.verifyEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
	h.set("pending", nil)
	return true
}

// cloudAcquire retries one VIP's Acquire until it succeeds, fails for good, or
// ctx ends. It reports whether it succeeded.
func (h *holder) cloudAcquire(ctx context.Context, v providers.VIP) bool {
	log := h.log.With("provider", h.cloud.Name(), "vip", v.Prefix)
	err := providers.Retry(ctx, log, h.backoff, h.callTimeout, "acquire", func(ctx context.Context) error {
		return h.cloud.Acquire(ctx, v)
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("acquire vip failed", "err", err)
			h.set("error", err)
		}
		return false
	}
	return true
}

// waitConfirmed polls Verify until the provider says the VIP points here.
func (h *holder) waitConfirmed(ctx context.Context, v providers.VIP) bool {
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
				h.set("error", err)
			}
			return false
		}
		if own.Here {
			return true
		}
		if attempt == 1 || attempt%20 == 0 {
			log.Info("vip pending at provider", "owner", own.Owner, "detail", own.Detail)
		}
		t := time.NewTimer(h.verifyEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// checkDrift re-reads the cloud and takes a VIP back if it was moved away
// while this node is master (unless fenced by a higher-priority master).
func (h *holder) checkDrift(ctx context.Context) {
	ver, ok := h.cloud.(providers.Verifier)
	if !ok {
		return
	}
	for _, v := range h.vips {
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
			h.set("fenced", nil)
			continue
		}
		h.log.Warn("vip moved away while master: taking it back", "provider", h.cloud.Name(), "vip", v.Prefix, "owner", own.Owner, "detail", own.Detail)
		h.set("pending", nil)
		if h.cloudAcquire(ctx, v) && h.waitConfirmed(ctx, v) {
			h.set("confirmed", nil)
			h.log.Info("vip confirmed by provider", "provider", h.cloud.Name(), "vip", v.Prefix)
		}
	}
}

func (h *holder) reannounceLocal(ctx context.Context, why string) {
	a, ok := h.local.(providers.Announcer)
	if !ok {
		return
	}
	for _, v := range h.vips {
		if err := a.Announce(ctx, v); err != nil && !errors.Is(err, context.Canceled) {
			h.log.Warn("announce failed", "vip", v.Prefix, "reason", why, "err", err)
		}
	}
	h.log.Debug("vips re-announced", "reason", why)
}

// release gives the VIPs up: local addresses are removed; the cloud provider
// is told too (for the modes where the next master takes over, that is a
// no-op at the cloud).
func (h *holder) release(ctx context.Context) {
	for _, v := range h.vips {
		if h.cloud != nil {
			if err := h.cloud.Release(ctx, v); err != nil {
				h.log.Warn("release vip at provider failed", "provider", h.cloud.Name(), "vip", v.Prefix, "err", err)
			}
		}
		if h.local != nil {
			if err := h.local.Release(ctx, v); err != nil {
				h.log.Error("release vip failed", "provider", h.local.Name(), "vip", v.Prefix, "err", err)
				h.set("error", err)
				continue
			}
		}
	}
	h.set("released", nil)
}

// cleanup removes VIPs a previous run left behind (kill -9), before the
// instance may become master.
func (h *holder) cleanup(ctx context.Context) {
	c, ok := h.local.(providers.Cleaner)
	if !ok {
		return
	}
	for _, v := range h.vips {
		if err := c.Cleanup(ctx, v); err != nil {
			h.log.Warn("cleanup of stale vip failed", "vip", v.Prefix, "iface", v.Interface, "err", err)
		}
	}
}
