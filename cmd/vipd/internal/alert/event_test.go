package alert

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEventText(t *testing.T) {
	tests := []struct {
		name          string
		ev            Event
		subject, body string
	}{
		{"instance master", Event{Kind: KindInstance, Name: "VI_1", State: StateMaster},
			"[lb1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="},
		{"instance backup", Event{Kind: KindInstance, Name: "VI_1", State: StateBackup},
			"[lb1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="},
		{"instance fault", Event{Kind: KindInstance, Name: "VI_1", State: StateFault},
			"[lb1] VRRP Instance VI_1 - Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="},
		{"instance stop", Event{Kind: KindInstance, Name: "VI_1", State: StateStop},
			"[lb1] VRRP Instance VI_1 - Stopping", "=> VRRP Instance stopping <="},
		{"instance deleted", Event{Kind: KindInstance, Name: "VI_1", State: StateDeleted},
			"[lb1] VRRP Instance VI_1 - Deleted", "=> VRRP Deleted at reload <="},
		{"group master", Event{Kind: KindSyncGroup, Name: "G1", State: StateMaster},
			"[lb1] VRRP Group G1 - Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="},
		{"group fault", Event{Kind: KindSyncGroup, Name: "G1", State: StateFault},
			"[lb1] VRRP Group G1 - Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="},
		{"group stop", Event{Kind: KindSyncGroup, Name: "G1", State: StateStop},
			"[lb1] VRRP Group G1 - Stopping", "=> All VRRP group instances are now stopping <="},
		{"rs down", Event{Kind: KindRealServer, Name: "[192.0.2.21]:tcp:80", VirtualServer: "[192.0.2.100]:tcp:80", State: StateDown},
			"[lb1] Realserver [192.0.2.21]:tcp:80 of virtual server [192.0.2.100]:tcp:80 - DOWN", "=> CHECK failed on service <="},
		{"rs up with detail", Event{Kind: KindRealServer, Name: "[192.0.2.21]:tcp:80", VirtualServer: "FWM 7", State: StateUp, Detail: "=> TCP CHECK succeed on service <="},
			"[lb1] Realserver [192.0.2.21]:tcp:80 of virtual server FWM 7 - UP", "=> TCP CHECK succeed on service <="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{tt.ev.Subject("lb1"), tt.ev.Body()}
			if diff := cmp.Diff([]string{tt.subject, tt.body}, got); diff != "" {
				t.Errorf("subject, body (-want +got):\n%s", diff)
			}
		})
	}
	if got, want := (Event{Kind: KindInstance, Name: "VI_1", State: StateMaster}).Subject(""), "VRRP Instance VI_1 - Entering MASTER state"; got != want {
		t.Errorf("Subject without router_id = %q, want %q", got, want)
	}
}

func TestService(t *testing.T) {
	got := []string{
		Service(netip.MustParseAddrPort("192.0.2.21:80"), "tcp"),
		Service(netip.MustParseAddrPort("[::ffff:192.0.2.21]:80"), "tcp"),
		Service(netip.MustParseAddrPort("[2001:db8::21]:53"), "udp"),
		FWMService(7),
	}
	want := []string{"[192.0.2.21]:tcp:80", "[192.0.2.21]:tcp:80", "[2001:db8::21]:udp:53", "FWM 7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
