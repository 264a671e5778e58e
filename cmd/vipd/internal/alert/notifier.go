package alert

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Defaults for Config.
const (
	DefaultQueueSize    = 64
	DefaultAttempts     = 4
	DefaultBackoff      = 2 * time.Second
	DefaultMaxBackoff   = time.Minute
	DefaultDrainTimeout = 5 * time.Second
)

// Config configures a Notifier. At least one of SMTP and Webhook is needed.
type Config struct {
	// RouterID prefixes subjects ("[lb1] VRRP Instance …"), keepalived's
	// global router_id. Empty: the host name, as keepalived.
	RouterID string
	SMTP     *SMTPConfig    // nil: no e-mail
	Webhook  *WebhookConfig // nil: no webhook
	// NoFaultAlerts drops FAULT events (keepalived no_email_faults).
	NoFaultAlerts bool
	// QueueSize bounds each sink's queue; <= 0: DefaultQueueSize.
	QueueSize int
	// Attempts is how many times one message is tried in all (1: no
	// retry); <= 0: DefaultAttempts.
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next
	// one up to MaxBackoff; <= 0: the defaults.
	Backoff, MaxBackoff time.Duration
	// DrainTimeout bounds the last attempt at queued messages after Run's
	// ctx ends; < 0: none; 0: DefaultDrainTimeout.
	DrainTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.RouterID == "" {
		c.RouterID, _ = os.Hostname()
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = c.Backoff
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	return c
}

// Message is what a sink delivers: the event and its rendered text.
type Message struct {
	Event    Event
	RouterID string
	Subject  string
	Body     string
}

// sink delivers one message; deliver must return by ctx's deadline.
type sink interface {
	name() string
	deliver(ctx context.Context, m Message) error
}

// Stats counts what happened to messages, summed over sinks (one event
// sent to two sinks counts twice).
type Stats struct {
	Queued     uint64 // accepted by Send
	Suppressed uint64 // events not queued: same state as last, or a filtered FAULT
	Sent       uint64 // delivered
	Retried    uint64 // attempts after the first
	Failed     uint64 // given up after Attempts
	Dropped    uint64 // pushed out of a full queue, or never sent after Run ended
}

// Notifier queues alerts and delivers them off the caller's path.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	sinks []*queue

	mu    sync.Mutex
	last  map[key]State
	stats Stats
}

// New checks cfg and returns a Notifier; nothing is sent before Run.
func New(cfg Config, log *slog.Logger) (*Notifier, error) {
	cfg = cfg.withDefaults()
	var sinks []sink
	if cfg.SMTP != nil {
		s, err := newMailSink(*cfg.SMTP)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	if cfg.Webhook != nil {
		s, err := newWebhookSink(*cfg.Webhook)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	if len(sinks) == 0 {
		return nil, errors.New("alert: neither smtp nor webhook configured")
	}
	return newNotifier(cfg, log, sinks...), nil
}

func newNotifier(cfg Config, log *slog.Logger, sinks ...sink) *Notifier {
	n := &Notifier{cfg: cfg.withDefaults(), log: log, last: map[key]State{}}
	for _, s := range sinks {
		n.sinks = append(n.sinks, &queue{s: s, wake: make(chan struct{}, 1)})
	}
	return n
}

// Send queues ev for every sink and returns at once; see the package
// invariants.
func (n *Notifier) Send(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	n.mu.Lock()
	k := ev.key()
	if (n.cfg.NoFaultAlerts && ev.State == StateFault) || n.last[k] == ev.State {
		n.stats.Suppressed++
		n.mu.Unlock()
		return
	}
	n.last[k] = ev.State
	n.mu.Unlock()
	m := Message{Event: ev, RouterID: n.cfg.RouterID, Subject: ev.Subject(n.cfg.RouterID), Body: ev.Body()}
	for _, q := range n.sinks {
		dropped := q.push(m, n.cfg.QueueSize)
		n.mu.Lock()
		n.stats.Queued++
		if dropped {
			n.stats.Dropped++
		}
		n.mu.Unlock()
	}
}

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

func (n *Notifier) count(f func(*Stats)) {
	n.mu.Lock()
	f(&n.stats)
	n.mu.Unlock()
}

// Run delivers queued messages until ctx ends, then drains (see the
// package invariants) and returns once every worker has exited.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range n.sinks {
		wg.Go(func() { n.work(ctx, q) })
	}
	wg.Wait()
	return nil
}

func (n *Notifier) work(ctx context.Context, q *queue) {
	log := n.log.With("sink", q.s.name())
	for {
		if ctx.Err() != nil {
			n.drain(q, log)
			return
		}
		m, ok := q.pop()
		if d := q.takeDropped(); d > 0 {
			log.Warn("alert queue full, dropped oldest", "dropped", d)
		}
		if !ok {
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				n.drain(q, log)
				return
			}
		}
		n.deliver(ctx, q.s, m, log)
	}
}

// deliver tries m up to Attempts times.
func (n *Notifier) deliver(ctx context.Context, s sink, m Message, log *slog.Logger) {
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := s.deliver(ctx, m)
		if err == nil {
			n.count(func(st *Stats) { st.Sent++ })
			log.Debug("alert sent", "subject", m.Subject)
			return
		}
		if attempt >= n.cfg.Attempts || ctx.Err() != nil {
			n.count(func(st *Stats) { st.Failed++ })
			log.Warn("alert not sent", "subject", m.Subject, "attempts", attempt, "err", err)
			return
		}
		log.Debug("alert failed, will retry", "subject", m.Subject, "attempt", attempt, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			n.count(func(st *Stats) { st.Failed++ })
			log.Warn("alert not sent", "subject", m.Subject, "attempts", attempt, "err", err)
			return
		}
		n.count(func(st *Stats) { st.Retried++ })
		wait = min(2*wait, n.cfg.MaxBackoff)
	}
}

// drain makes one attempt at each queued message within DrainTimeout.
func (n *Notifier) drain(q *queue, log *slog.Logger) {
	if n.cfg.DrainTimeout < 0 {
		n.dropAll(q)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DrainTimeout)
	defer cancel()
	for {
		m, ok := q.pop()
		if !ok {
			return
		}
		if ctx.Err() != nil {
			n.count(func(st *Stats) { st.Dropped++ })
			continue
		}
		if err := q.s.deliver(ctx, m); err != nil {
			n.count(func(st *Stats) { st.Failed++ })
			log.Warn("alert not sent", "subject", m.Subject, "attempts", 1, "err", err)
			continue
		}
		n.count(func(st *Stats) { st.Sent++ })
	}
}

func (n *Notifier) dropAll(q *queue) {
	for {
		if _, ok := q.pop(); !ok {
			return
		}
		n.count(func(st *Stats) { st.Dropped++ })
	}
}

// queue is one sink's bounded FIFO.
type queue struct {
	s    sink
	wake chan struct{} // cap 1: "something was pushed"

	mu      sync.Mutex
	msgs    []Message
	dropped int // since the worker last looked, for its log line
}

// push appends m, dropping the oldest when size are queued already, and
// reports whether it dropped one.
func (q *queue) push(m Message, size int) bool {
	q.mu.Lock()
	dropped := false
	if len(q.msgs) >= size {
		q.msgs[0] = Message{}
		q.msgs = q.msgs[1:]
		q.dropped++
		dropped = true
	}
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return dropped
}

func (q *queue) takeDropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.dropped
	q.dropped = 0
	return d
}

func (q *queue) pop() (Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs) == 0 {
		return Message{}, false
	}
	m := q.msgs[0]
	q.msgs[0] = Message{}
	q.msgs = q.msgs[1:]
	return m, true
}
