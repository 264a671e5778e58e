package configs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vipd/vipd/configs"
)

// FuzzParseKeepalived: any input either fails to parse or converts to a
// Config whose YAML loads back.
func FuzzParseKeepalived(f *testing.F) {
	for _, p := range []string{"testdata/keepalived/vipd-pair.conf", "testdata/keepalived/vipd-lvs.conf"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("vrrp_instance X {\n{\n}\n}\n")
	f.Add("vrrp_instance {}vrrp_instance {}vrrp_sync_group")
	f.Add("virtual_server 192.0.2.1 80 { real_server 192.0.2.2 80 { HTTP_GET { url { status_code 9223372036854775807 } } } }")
	f.Add("virtual_server 2001:db8::1 80 { real_server 2001:db8::2 80 { HTTP_GET { url { status_code 200-299 } } } }")
	f.Fuzz(func(t *testing.T, in string) {
		cfg, _, err := configs.ParseKeepalived(strings.NewReader(in))
		if err != nil {
			return
		}
		b, err := configs.MarshalYAML(cfg)
		if err != nil {
			t.Fatalf("MarshalYAML: %v", err)
		}
		if _, err := configs.LoadBytes(b, nil); err != nil {
			t.Fatalf("migrated YAML does not load: %v\n%s", err, b)
		}
	})
}
