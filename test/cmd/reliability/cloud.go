package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vipd/vipd/providers/aws/awstest"
	"github.com/vipd/vipd/test/harness"
)

// Cloud outages: the AWS emulator (providers/aws/awstest, unchanged) behind
// a fault-injecting reverse proxy in the client namespace. The proxy fails a
// share of EC2 calls — HTTP 500 InternalError, 503 RequestLimitExceeded
// (throttling), or a hang past the provider's call_timeout — and logs every
// call with the node it came from and the code it got. IMDS is not faulted.

const (
	cloudCallTimeout = 2 * time.Second
	faultNone        = 0
	faultShare       = 1 // 30 %
	faultAll         = 2 // full outage
)

var cloudVIP = netip.MustParsePrefix("192.0.2.100/24")

type attempt struct {
	At     time.Time
	Node   string // source address
	Action string
	Code   string // "ok", or the injected fault
}

type faultProxy struct {
	mode  atomic.Int32
	share float64
	mu    sync.Mutex
	log   []attempt
	rp    *httputil.ReverseProxy
	srv   *http.Server
	url   string
}

func (p *faultProxy) record(a attempt) {
	p.mu.Lock()
	p.log = append(p.log, a)
	p.mu.Unlock()
}

func (p *faultProxy) attempts() []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]attempt(nil), p.log...)
}

var faultKinds = []string{"InternalError", "RequestLimitExceeded", "timeout"}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	q, _ := url.ParseQuery(string(body))
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	a := attempt{At: time.Now(), Node: host, Action: q.Get("Action"), Code: "ok"}
	fail := false
	switch p.mode.Load() {
	case faultShare:
		fail = rand.Float64() < p.share
	case faultAll:
		fail = true
	}
	if !fail {
		p.record(a)
		p.rp.ServeHTTP(w, r)
		return
	}
	a.Code = faultKinds[rand.IntN(len(faultKinds))]
	p.record(a)
	var resp = awstest.ErrorResponse(http.StatusInternalServerError, "InternalError", "An internal error has occurred.", "fault-"+a.At.Format("150405.000000"))
	switch a.Code {
	case "RequestLimitExceeded":
		resp = awstest.ErrorResponse(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.", "fault-"+a.At.Format("150405.000000"))
	case "timeout":
		// Hang past the caller's deadline (bounded: the client gives up first).
		select {
		case <-r.Context().Done():
		case <-time.After(cloudCallTimeout + time.Second):
		}
		http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// newFaultProxy listens in ns and forwards to target (dialled from ns too).
func newFaultProxy(t harness.TB, ns *harness.NS, target string) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("%v", err)
	}
	p := &faultProxy{share: 0.3}
	p.rp = httputil.NewSingleHostReverseProxy(u) // keeps the client's Host: SigV4 signs it
	p.rp.Transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := ns.Do(func() (err error) {
				var d net.Dialer
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		MaxIdleConnsPerHost: 8,
	}
	var l net.Listener
	if err := ns.Do(func() (err error) { l, err = net.Listen("tcp", ns.IPv4.String()+":0"); return err }); err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.url = "http://" + l.Addr().String()
	p.srv = &http.Server{Handler: p}
	go func() { _ = p.srv.Serve(l) }() // owned by p: ends at cleanup
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

func runCloud(t *caseTB, c *config) {
	share := c.scale(30*time.Second, 5*time.Minute)
	outage := c.scale(10*time.Second, 60*time.Second)
	b := harness.New(t, 2)
	dir := t.TempDir()
	var ips []string
	for _, n := range b.Nodes {
		ips = append(ips, n.IPv4.String())
	}
	var cloud *awstest.Cloud
	anyPort := netip.AddrPortFrom(b.Client.IPv4, 0).String()
	if err := b.Client.Do(func() (err error) {
		cloud, err = awstest.NewCloud(anyPort, []string{anyPort, anyPort}, ips)
		return err
	}); err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(cloud.Close)
	proxy := newFaultProxy(t, b.Client, cloud.EC2.URL())
	t.Cleanup(func() { proxy.mode.Store(faultNone) })
	for i, n := range b.Nodes {
		if out, err := n.IP("link", "set", "eth0", "address", cloud.Nodes[i].MAC); err != nil {
			t.Fatalf("set MAC: %v: %s", err, out)
		}
	}
	// n1's track script: a file the case removes to make n1 leave master
	// while it still reaches the cloud.
	flag := filepath.Join(dir, "n1.up")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	var procs []*harness.Proc
	start := func(i, prio int) {
		n := b.Node(i)
		in := harness.Instance{Name: "VI_1", VRID: 51, Version: 3, Priority: prio, AdvertInterval: 100 * time.Millisecond,
			Src: n.IPv4, Peers: b.PeersOf(n, false), VIPs: []netip.Prefix{cloudVIP},
			Extra: fmt.Sprintf("provider:\n  type: aws\n  mode: secondary-ip\n  endpoint: %s\n  metadata_endpoint: %s\n  drift_check_interval: 1s\n  call_timeout: %s\n",
				proxy.url, cloud.Nodes[i-1].IMDS.URL(), cloudCallTimeout)}
		if i == 1 {
			in.TrackScript, in.TrackWeight, in.TrackInterval = "test -f "+flag, -100, 200*time.Millisecond
		}
		procs = append(procs, startVipd(t, n, c.vipd, dir, n.Role+"-vipd", harness.VipdConfig(n, n.StatusSocket(dir), in)))
	}
	sock := func(i int) string { return b.Node(i).StatusSocket(dir) }
	waitProv := func(i int, state, pstate string, d time.Duration) error {
		deadline := time.Now().Add(d)
		var last vipdStatus
		var err error
		for time.Now().Before(deadline) {
			last, err = status(c.vipd, sock(i))
			if err == nil && len(last.Instances) == 1 && last.Instances[0].State == state && last.Instances[0].ProviderState == pstate {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("n%d not %s/%s after %v: %+v %v", i, state, pstate, d, last.Instances, err)
	}
	start(1, 150)
	if err := waitProv(1, "MASTER", "confirmed", 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, tail(procs[0].Output(), 20))
	}
	start(2, 100)
	if err := waitProv(2, "BACKUP", "", 15*time.Second); err != nil {
		t.Fatalf("%v", err)
	}
	time.Sleep(time.Second)

	// Phase 1: 30 % of calls fail; n1 stays master and the VIP stays put.
	cs1 := fmt.Sprintf("cloud: 30%% of calls failing for %v", share)
	mark1 := len(proxy.attempts())
	proxy.mode.Store(faultShare)
	t1 := time.Now()
	moved := 0
	for time.Since(t1) < share {
		if h := cloud.EC2.Holder(cloudVIP.Addr().String()); h != "eni-0" {
			moved++
		}
		time.Sleep(200 * time.Millisecond)
	}
	proxy.mode.Store(faultNone)
	p1 := proxy.attempts()[mark1:]
	failed, writes := 0, 0
	for _, a := range p1 {
		if a.Code != "ok" {
			failed++
		}
		if awstest.IsWrite(a.Action) {
			writes++
		}
	}
	c.rep.Info(cs1, "vipd", "calls / failed (injected) / writes", fmt.Sprintf("%d / %d / %d", len(p1), failed, writes))
	c.rep.Info(cs1, "vipd", "calls per minute", fmt.Sprintf("%.0f", float64(len(p1))/share.Minutes()))
	c.rep.Check(cs1, "vipd", "VIP samples not on the master's ENI (200 ms)", fmt.Sprint(moved), "0", moved == 0)

	// Phase 2: full outage; n1 leaves master (track script) at its start.
	cs2 := fmt.Sprintf("cloud: full outage %v during a failover", outage)
	mark2 := len(proxy.attempts())
	proxy.mode.Store(faultAll)
	t2 := time.Now()
	_ = os.Remove(flag)
	time.Sleep(outage)
	proxy.mode.Store(faultNone)
	outEnd := time.Now()
	err := waitProv(2, "MASTER", "confirmed", 30*time.Second)
	healed := time.Since(outEnd)
	c.rep.Check(cs2, "vipd", "n2 MASTER, VIP confirmed, after the outage ended", ms(healed), "≤ 30s", err == nil)
	holder := cloud.EC2.Holder(cloudVIP.Addr().String())
	c.rep.Check(cs2, "vipd", "cloud holder of the VIP", holder, "eni-1 (the master)", holder == "eni-1")
	st1, _ := status(c.vipd, sock(1))
	if len(st1.Instances) == 1 {
		c.rep.Check(cs2, "vipd", "n1 state", st1.Instances[0].State, "BACKUP", st1.Instances[0].State == "BACKUP")
	}
	// When n1 left master, from its log.
	var left time.Time
	for _, l := range parseLog(procs[0].Output()) {
		if l.Msg == "transition" && l.Attr["from"] == "MASTER" && !l.Time.Before(t2) {
			left = l.Time
			break
		}
	}
	var outN2, n1WritesAfter int
	for _, a := range proxy.attempts()[mark2:] {
		if a.Node == b.Node(2).IPv4.String() && a.At.Before(outEnd) {
			outN2++
		}
		if a.Node == b.Node(1).IPv4.String() && awstest.IsWrite(a.Action) && !left.IsZero() && a.At.After(left) {
			n1WritesAfter++
		}
	}
	c.rep.Check(cs2, "vipd", "n1 left master (after the outage began)", ms(left.Sub(t2)), "found", !left.IsZero())
	c.rep.Check(cs2, "vipd", "n1 writes after it left master", fmt.Sprint(n1WritesAfter), "0", n1WritesAfter == 0)
	rate := float64(outN2) / outEnd.Sub(t2).Minutes()
	c.rep.Info(cs2, "vipd", "n2 calls during the outage (per minute)", fmt.Sprintf("%d (%.0f/min)", outN2, rate))

	// Every failed attempt is logged with its code: Retry's "provider call
	// failed" lines carry a code attribute; drift checks log "drift check
	// failed" with the error text only.
	codes := map[string]int{}
	noCode, lines := 0, 0
	for _, p := range procs {
		for _, l := range parseLog(p.Output()) {
			if (l.Msg != "provider call failed" && l.Msg != "drift check failed") || l.Time.Before(t1) {
				continue
			}
			lines++
			code, _ := l.Attr["code"].(string)
			if code == "" {
				code = codeIn(fmt.Sprint(l.Attr["err"]))
			}
			if code == "" && strings.Contains(fmt.Sprint(l.Attr["err"]), "context canceled") {
				code = "(own cancel: the node left master)"
			}
			if code == "" {
				noCode++
				code = "(none)"
				if noCode <= 2 {
					c.rep.Note("cloud: %s without a code: %v", l.Msg, l.Attr["err"])
				}
			}
			codes[l.Msg+": "+code]++
		}
	}
	injected := map[string]int{}
	nInjected := 0
	for _, a := range proxy.attempts()[mark1:] {
		if a.Code != "ok" {
			injected[a.Code]++
			nInjected++
		}
	}
	c.rep.Info("cloud (both phases)", "vipd", "injected faults by kind (proxy)", fmtCounts(injected))
	c.rep.Info("cloud (both phases)", "vipd", "failure log lines by message: code", fmtCounts(codes))
	c.rep.Goal("cloud (both phases)", "vipd", "failed calls logged / injected", fmt.Sprintf("%d / %d", lines, nInjected), "≥ injected (every attempt logged)", lines >= nInjected)
	c.rep.Goal("cloud (both phases)", "vipd", "failure log lines without a code (own cancels aside)", fmt.Sprintf("%d of %d", noCode, lines), "0", noCode == 0)
	if err != nil {
		c.rep.Note("cloud: %v\n%s", err, tail(procs[1].Output(), 10))
	}
}

// codeIn finds the fault's code in an error text.
func codeIn(s string) string {
	for _, c := range []string{"InternalError", "RequestLimitExceeded"} {
		if strings.Contains(s, c) {
			return c
		}
	}
	if strings.Contains(s, "deadline exceeded") || strings.Contains(s, "timeout") || strings.Contains(s, "504") {
		return "timeout"
	}
	return ""
}

func fmtCounts(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
