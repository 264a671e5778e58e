package cloudtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/vipd/vipd/providers"
)

// fakeProvider is a provider against a Server ("Describe" reads, "Write"
// writes); its flags break one promise each.
type fakeProvider struct {
	srv  *Server
	here bool

	alwaysWrite  bool // Acquire writes even when the VIP is here
	releaseCalls bool // Release calls the API
	acceptV6     bool // IPv6 VIPs reach the API
}

func (f *fakeProvider) Name() string { return "fake" }

func (f *fakeProvider) call(ctx context.Context, action string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/?Action="+action, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (f *fakeProvider) check(vip providers.VIP) error {
	if !f.acceptV6 && !vip.Prefix.Addr().Is4() {
		return errors.New("fake: only IPv4")
	}
	return nil
}

func (f *fakeProvider) Acquire(ctx context.Context, vip providers.VIP) error {
	if err := f.check(vip); err != nil {
		return err
	}
	if err := f.call(ctx, "Describe"); err != nil {
		return err
	}
	if f.here && !f.alwaysWrite {
		return nil
	}
	f.here = true
	return f.call(ctx, "Write")
}

func (f *fakeProvider) Verify(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	if err := f.check(vip); err != nil {
		return providers.Ownership{}, err
	}
	return providers.Ownership{Here: f.here}, f.call(ctx, "Describe")
}

func (f *fakeProvider) Release(ctx context.Context, _ providers.VIP) error {
	if f.releaseCalls {
		return f.call(ctx, "Describe")
	}
	return nil
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }

// failures runs check as a test would (Fatal ends it) and returns what it
// reported.
func failures(t *testing.T, check func(tb testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.failures
}

func TestChecksCatchBrokenProviders(t *testing.T) {
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24")}
	tests := []struct {
		name  string
		fake  fakeProvider
		check func(tb testing.TB, p *fakeProvider)
		want  string // "" passes; else a substring of the first failure
	}{
		{name: "takeover: sound provider passes", check: takeover(vip), want: ""},
		{name: "takeover: not idempotent", fake: fakeProvider{alwaysWrite: true}, check: takeover(vip), want: "second Acquire wrote"},
		{name: "takeover: release calls the API", fake: fakeProvider{releaseCalls: true}, check: takeover(vip), want: "Release called"},
		{name: "takeover: VIP already here", fake: fakeProvider{here: true}, check: takeover(vip), want: "Verify before"},
		{name: "ipv6: sound provider passes", check: func(tb testing.TB, p *fakeProvider) { CheckIPv6Rejected(tb, p, p.srv) }, want: ""},
		{name: "ipv6: reaches the API", fake: fakeProvider{acceptV6: true}, check: func(tb testing.TB, p *fakeProvider) { CheckIPv6Rejected(tb, p, p.srv) }, want: "Acquire(v6)"},
		{name: "handover: sound pair passes", check: handover(vip, []string{"Write"}, false), want: ""},
		{name: "handover: other writes", check: handover(vip, nil, false), want: "takeover writes"},
		{name: "handover: old master still here", check: handover(vip, []string{"Write"}, true), want: "old master's Verify"},
		{name: "deadline: bounded", check: func(tb testing.TB, p *fakeProvider) { CheckDeadlineBoundsCall(tb, p, p.srv, vip) }, want: ""},
		{name: "retry: recovers", check: retry(vip, RetryCase{Resp: Response{Status: 503}, Fails: 2, WantAttempts: 3}), want: ""},
		{name: "retry: wrong attempt count", check: retry(vip, RetryCase{Resp: Response{Status: 503}, Fails: 2, WantAttempts: 2}), want: "Write sent 3 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(ActionParam, func(Request) Response { return Response{} })
			t.Cleanup(srv.Close)
			p := tt.fake
			p.srv = srv
			got := failures(t, func(tb testing.TB) { tt.check(tb, &p) })
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("check failed a sound provider: %q", got)
			case tt.want != "" && (len(got) == 0 || !strings.Contains(got[0], tt.want)):
				t.Errorf("failures %q, want the first to contain %q", got, tt.want)
			}
		})
	}
}

func takeover(vip providers.VIP) func(testing.TB, *fakeProvider) {
	return func(tb testing.TB, p *fakeProvider) {
		Takeover[string]{
			Provider: p, Server: p.srv, VIP: vip,
			Writes:     func() []string { return writesOf(p.srv) },
			WantWrites: []string{"Write"},
		}.Check(tb)
	}
}

func handover(vip providers.VIP, want []string, fromStillHere bool) func(testing.TB, *fakeProvider) {
	return func(tb testing.TB, p *fakeProvider) {
		// The fakes share no state: From's Verify reports what it is told.
		from := &fakeProvider{srv: p.srv, here: fromStillHere}
		Handover[string]{
			From: from, To: p, Server: p.srv, VIP: vip,
			Writes:     func() []string { return writesOf(p.srv) },
			WantWrites: want,
			WantFrom:   providers.Ownership{},
		}.Check(tb)
	}
}

func retry(vip providers.VIP, rc RetryCase) func(testing.TB, *fakeProvider) {
	return func(tb testing.TB, p *fakeProvider) { rc.Check(tb, &retryable{p}, p.srv, vip, "Write") }
}

// retryable makes the fake's failed writes retryable CallErrors.
type retryable struct{ *fakeProvider }

func (r *retryable) Acquire(ctx context.Context, vip providers.VIP) error {
	if err := r.call(ctx, "Describe"); err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+"/?Action=Write", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &providers.CallError{Provider: "fake", Action: "Write", HTTPCode: resp.StatusCode, Retryable: true, Err: errors.New(resp.Status)}
	}
	r.here = true
	return nil
}

func writesOf(srv *Server) []string {
	var out []string
	for _, a := range srv.Actions() {
		if a == "Write" {
			out = append(out, a)
		}
	}
	return out
}
