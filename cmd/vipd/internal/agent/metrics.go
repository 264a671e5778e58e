package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vipd/vipd/vrrp"
)

// metrics is the agent's Prometheus registry: gauges read from the status on
// every scrape, counters and histograms updated as things happen.
type metrics struct {
	reg         *prometheus.Registry
	transitions *prometheus.CounterVec
	confirm     *prometheus.HistogramVec
	reloads     *prometheus.CounterVec
}

func newMetrics(a *agent) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vipd_vrrp_transitions_total", Help: "VRRP state transitions by instance and new state.",
	}, []string{"instance", "to"})
	m.confirm = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vipd_provider_confirm_seconds",
		Help:    "Time from becoming master to the provider confirming the VIP.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"instance"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vipd_reloads_total", Help: "Configuration reloads by result (ok, invalid, refused, failed).",
	}, []string{"result"})
	m.reg.MustRegister(m.transitions, m.confirm, m.reloads, statusCollector{a},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) countTransition(t vrrp.Transition) {
	m.transitions.WithLabelValues(t.Name, t.To.String()).Inc()
}

func (m *metrics) observeConfirm(instance string) func(time.Duration) {
	return func(d time.Duration) { m.confirm.WithLabelValues(instance).Observe(d.Seconds()) }
}

var (
	descState = prometheus.NewDesc("vipd_vrrp_state", "1 for the instance's current state (INIT, BACKUP, MASTER, FAULT).",
		[]string{"instance", "state"}, nil)
	descPrio = prometheus.NewDesc("vipd_vrrp_effective_priority", "Priority after tracking adjustments.",
		[]string{"instance"}, nil)
	descDrops = prometheus.NewDesc("vipd_vrrp_dropped_packets_total", "Received adverts dropped, by reason.",
		[]string{"instance", "reason"}, nil)
	descWireDrops = prometheus.NewDesc("vipd_vrrp_unmatched_dropped_packets_total",
		"Received VRRP packets dropped before they matched an instance (malformed, checksum, ttl, vrid_unknown), by reason.",
		[]string{"reason"}, nil)
	descPending = prometheus.NewDesc("vipd_provider_pending", "1 while master and the VIP is pending at the provider.",
		[]string{"instance", "provider"}, nil)
)

// statusCollector exports the status snapshot as gauges.
type statusCollector struct{ a *agent }

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descState
	ch <- descPrio
	ch <- descDrops
	ch <- descPending
	ch <- descWireDrops
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.status()
	for r, n := range st.Drops {
		ch <- prometheus.MustNewConstMetric(descWireDrops, prometheus.CounterValue, float64(n), r)
	}
	for _, in := range st.Instances {
		for _, s := range []string{"INIT", "BACKUP", "MASTER", "FAULT"} {
			v := 0.0
			if in.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, in.Name, s)
		}
		ch <- prometheus.MustNewConstMetric(descPrio, prometheus.GaugeValue, float64(in.EffectivePriority), in.Name)
		for r, n := range in.Drops {
			ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue, float64(n), in.Name, r)
		}
		p := 0.0
		if in.ProviderState == "pending" {
			p = 1
		}
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, p, in.Name, in.Provider)
	}
}
