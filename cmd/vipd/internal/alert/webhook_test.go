package alert

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWebhook(t *testing.T) {
	var (
		mu       sync.Mutex
		payloads []WebhookPayload
		calls    int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("request %s, Content-Type %q, Authorization %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
		}
		if calls == 1 { // the first POST fails: it must be retried
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var p WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("decode: %v", err)
		}
		payloads = append(payloads, p)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	n, err := New(Config{
		RouterID: "lb1", Backoff: 10 * time.Millisecond,
		Webhook: &WebhookConfig{URL: srv.URL + "/hook", Headers: map[string]string{"Authorization": "Bearer s3cret"}, Timeout: 5 * time.Second},
	}, discard())
	if err != nil {
		t.Fatal(err)
	}
	run(t, n)
	at := time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC)
	n.Send(Event{Kind: KindSyncGroup, Name: "G1", State: StateFault, Time: at})
	n.Send(Event{Kind: KindRealServer, Name: "[2001:db8::21]:tcp:443", VirtualServer: "[2001:db8::100]:tcp:443", State: StateUp, Time: at})
	waitStats(t, n, func(st Stats) bool { return st.Sent == 2 })
	mu.Lock()
	defer mu.Unlock()
	want := []WebhookPayload{
		{Kind: "sync_group", Name: "G1", State: StateFault, RouterID: "lb1", Time: at,
			Subject: "[lb1] VRRP Group G1 - Entering FAULT state", Body: "=> All VRRP group instances are now in FAULT state <="},
		{Kind: "real_server", Name: "[2001:db8::21]:tcp:443", VirtualServer: "[2001:db8::100]:tcp:443", State: StateUp, RouterID: "lb1", Time: at,
			Subject: "[lb1] Realserver [2001:db8::21]:tcp:443 of virtual server [2001:db8::100]:tcp:443 - UP", Body: "=> CHECK succeed on service <="},
	}
	if diff := cmp.Diff(want, payloads); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
	if st := n.Stats(); st.Retried != 1 || calls != 3 {
		t.Errorf("Retried = %d, calls = %d; want 1 retry, 3 calls", st.Retried, calls)
	}
}

// TestWebhookTimeout: a hook that never answers costs one Timeout per
// attempt, and Send still returns at once.
func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	const timeout = 200 * time.Millisecond
	n, err := New(Config{Attempts: 2, Backoff: 10 * time.Millisecond,
		Webhook: &WebhookConfig{URL: srv.URL, Timeout: timeout}}, discard())
	if err != nil {
		t.Fatal(err)
	}
	run(t, n)
	start := time.Now()
	n.Send(ev("VI_1", StateMaster))
	if el := time.Since(start); el > 50*time.Millisecond {
		t.Errorf("Send took %v", el)
	}
	waitStats(t, n, func(st Stats) bool { return st.Failed == 1 })
	if el := time.Since(start); el < 2*timeout {
		t.Errorf("gave up after %v, want ≥ 2 attempts × %v", el, timeout)
	}
}
