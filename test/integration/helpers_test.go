package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// instStatus is the part of `vipd status --json` (agent.InstanceStatus) the
// tests read.
type instStatus struct {
	Name              string           `json:"name"`
	State             string           `json:"state"`
	Priority          int              `json:"priority"`
	EffectivePriority int              `json:"effective_priority"`
	Master            string           `json:"master"`
	Reason            string           `json:"reason"`
	ProviderState     string           `json:"provider_state"`
	ProviderError     string           `json:"provider_error"`
	SyncGroup         string           `json:"sync_group"`
	Drops             map[string]int64 `json:"drops"`
}

// agentStatus is `vipd status --json`. Drops is read in case the agent
// reports agent-wide (wire) drops at the top level.
type agentStatus struct {
	Node      string           `json:"node"`
	Instances []instStatus     `json:"instances"`
	Drops     map[string]int64 `json:"drops"`
}

// statusOf reads `vipd status --json` from the agent of ns.
func statusOf(t *testing.T, ns *harness.NS, dir string) (agentStatus, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, vipd(t), "status", "--json", "--socket", ns.StatusSocket(dir)).CombinedOutput()
	if err != nil {
		return agentStatus{}, fmt.Errorf("vipd status --json (%s): %v: %s", ns.Role, err, out)
	}
	var st agentStatus
	if err := json.Unmarshal(out, &st); err != nil {
		return agentStatus{}, fmt.Errorf("vipd status --json (%s): %v: %s", ns.Role, err, out)
	}
	return st, nil
}

func (s agentStatus) instance(name string) (instStatus, bool) {
	for _, in := range s.Instances {
		if in.Name == name {
			return in, true
		}
	}
	return instStatus{}, false
}

// waitState waits (bounded) until instance name on ns reports state.
func waitState(t *testing.T, ns *harness.NS, dir, name, state string, timeout time.Duration) (instStatus, error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last instStatus
	var lastErr error
	for {
		st, err := statusOf(t, ns, dir)
		if err == nil {
			in, ok := st.instance(name)
			if ok && in.State == state {
				return in, nil
			}
			last, lastErr = in, fmt.Errorf("instance %s on %s is %q (reason %q), want %s", name, ns.Role, in.State, in.Reason, state)
			if !ok {
				lastErr = fmt.Errorf("instance %s not in status of %s: %+v", name, ns.Role, st)
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("after %v: %w", timeout, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustState is waitState that fails the test, printing the node's log.
func mustState(t *testing.T, ns *harness.NS, dir, name, state string, timeout time.Duration, p *harness.Proc) instStatus {
	t.Helper()
	in, err := waitState(t, ns, dir, name, state, timeout)
	if err != nil {
		t.Fatalf("%v\n%s log:\n%s", err, ns.Role, tail(p.Output(), 40))
	}
	return in
}

// mustHolder waits until exactly node want holds addr.
func mustHolder(t *testing.T, b *harness.Bed, addr netip.Addr, want string, timeout time.Duration, procs ...*harness.Proc) {
	t.Helper()
	if h, err := b.WaitHolder(addr, want, timeout); err != nil {
		var logs strings.Builder
		for _, p := range procs {
			fmt.Fprintf(&logs, "--- %s:\n%s\n", p.Name, tail(p.Output(), 40))
		}
		t.Fatalf("%v (holders %v)\n%s", err, h, logs.String())
	}
}

// mustReach checks that the client reaches node want through addr over UDP
// and TCP (both report the answering node) and ping. ARP/ND may need a
// moment after a takeover, so each is retried for up to 3 s.
func mustReach(t *testing.T, b *harness.Bed, addr netip.Addr, want string) {
	t.Helper()
	check := func(what string, f func() (string, error)) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			got, err := f()
			if err == nil && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("client %s via %s: got %q, %v; want %q", what, addr, got, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	check("UDP", func() (string, error) { return b.Client.AskUDP(addr, echoPort, 500*time.Millisecond) })
	check("TCP", func() (string, error) { return b.Client.AskTCP(addr, echoPort, 500*time.Millisecond) })
	check("ping", func() (string, error) {
		out, err := b.Client.Command(context.Background(), "ping", "-c", "1", "-W", "1", addr.String()).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, out)
		}
		return want, nil
	})
}

// startEcho starts the UDP and TCP echo servers on every node.
func startEcho(t *testing.T, b *harness.Bed) {
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, echoPort)
		n.StartTCPEcho(t, echoPort)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// uniqueFile returns a path under /tmp unique to this test run.
func uniqueFile(t *testing.T, b *harness.Bed, what string) string {
	return fmt.Sprintf("/tmp/%s-%s-%s", b.Prefix, strings.ReplaceAll(t.Name(), "/", "_"), what)
}

// schedMargin is the slack every timing bound of these tests adds for
// scheduling: with both CPUs of the test machine kept busy by other
// processes, a runnable daemon (or the test's sampler) can wait this long
// for a CPU before it acts on a packet or a timer. Measured under that load
// (two busy loops plus a fuzzer), 5 ms sampling: in 40 runs of the IPv6
// interop and IPv6 VIP tests the longest handover overlap was 20 ms; in two
// runs of every interop variant, 64 ms at 1 s adverts and 100 ms (one
// advert) at 100 ms adverts, i.e. within one advert plus tens of ms.
const schedMargin = 250 * time.Millisecond

// handoverOverlap bounds how long two nodes may both hold the VIP during a
// planned handover (preemption, make-before-break stop, keepalived's
// resign): the new master adds the VIP and then advertises; the old one
// releases when it hears that advert, at the latest the next one, one
// advert interval later. Longer is a split brain, not a handover.
func handoverOverlap(adv time.Duration) time.Duration { return adv + schedMargin }
