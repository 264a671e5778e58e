package configs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipd/vipd/configs"
)

// FuzzParseKeepalived: any input either fails to convert or converts to a
// Config whose YAML loads back (and validation does not panic). Includes
// read nothing from the host.
func FuzzParseKeepalived(f *testing.F) {
	files, err := filepath.Glob("testdata/keepalived/*.conf")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
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
	f.Add("$A=x \\\n y\n$B=${A}$A\nglobal_defs {\n router_id $B\n}\n@lb1 include x\n")
	f.Add("global_defs {\n router_id \xff\n}\n") // issue 15: non-UTF-8 made MarshalYAML fail
	opts := configs.KeepalivedOptions{
		ConfigID: "lb1",
		ReadFile: func(string) ([]byte, error) { return nil, errors.New("no files while fuzzing") },
		Glob:     func(p string) ([]string, error) { return []string{p}, nil },
	}
	f.Fuzz(func(t *testing.T, in string) {
		cfg, _, err := configs.ParseKeepalivedWith(strings.NewReader(in), "", "", opts)
		if err != nil {
			return
		}
		b, err := configs.MarshalYAML(cfg)
		if err != nil {
			t.Fatalf("MarshalYAML: %v", err)
		}
		back, err := configs.LoadBytes(b, nil)
		if err != nil {
			t.Fatalf("migrated YAML does not load: %v\n%s", err, b)
		}
		_ = back.Validate(nil)
	})
}
