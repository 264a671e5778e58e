package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipd/vipd/vrrp/vrrptest"
)

// TestAlertsAndRealServerNotify: with smtp_alert on and a webhook, the
// agent posts an alert when its instance becomes master and when a real
// server goes down, and runs the real server's notify_down (real time: the
// webhook is a real HTTP server).
func TestAlertsAndRealServerNotify(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer srv.Close()
	marker := filepath.Join(t.TempDir(), "down")
	yaml := fmt.Sprintf(`global: {status_socket: "", smtp_alert: true, webhook: {url: %q}}
instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    advert_interval: 100ms
    unicast_src_ip: 192.0.2.1
    unicast_peers: [192.0.2.2]
    vips: [192.0.2.100/24]
virtual_servers:
  - address: 192.0.2.100:80
    scheduler: rr
    delay_loop: 100ms
    real_servers:
      - address: 192.0.2.11:80
        notify_down: "touch %s"
        checks: [{type: tcp, connect_ip: 127.0.0.1, connect_port: 1, connect_timeout: 1s}]
`, srv.URL, marker)
	p := buildPlan(t, yaml)
	n := &node{addr: mustAddr("192.0.2.1"), local: newFakeLocal(), ipvs: newFakeIPVS(), done: make(chan error, 1)}
	n.a = newAgent(p, discard, fakeHost(t, vrrptest.NewNetwork(nil), n))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { n.done <- n.a.run(ctx) }()
	defer func() {
		cancel()
		if err := <-n.done; err != nil {
			t.Error(err)
		}
	}()

	has := func(want ...string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			b, _ := json.Marshal(m)
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(string(b), w)
			}
			if ok {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for !(has("VI_1", "MASTER") && has("192.0.2.11", "DOWN")) {
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("alerts received: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := n.a.status(); st.Alerts == nil || st.Alerts.Sent == 0 {
		t.Errorf("status shows alerts %+v, want some sent", st.Alerts)
	}
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("notify_down did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
