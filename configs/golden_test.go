package configs_test

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/configs"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/keepalived")

const goldenDir = "testdata/keepalived"

// TestMigrateGolden runs the migration over every testdata/keepalived/*.conf
// (real keepalived.conf files from public sources, origin in each header
// and in SOURCES.md) and compares the YAML, warnings and errors with
// NAME.golden (go test -run TestMigrateGolden -update rewrites them).
// Every conversion that succeeds must load back unchanged and validate.
//
// A "# vipd-migrate: --config-id ID" line in a file gives the config id.
func TestMigrateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("%d files in %s, want the corpus", len(files), goldenDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			opts := configs.KeepalivedOptions{ConfigID: configID(t, f)}
			cfg, warnings, err := configs.ParseKeepalivedFile(f, opts)
			var got strings.Builder
			got.WriteString("# warnings\n")
			for _, w := range warnings {
				got.WriteString(w + "\n")
			}
			if err != nil {
				got.WriteString("# error\n" + err.Error() + "\n")
			} else {
				b, err := configs.MarshalYAML(cfg)
				if err != nil {
					t.Fatalf("MarshalYAML: %v", err)
				}
				got.WriteString("# yaml\n")
				got.Write(b)
				back, err := configs.LoadBytes(b, nil)
				if err != nil {
					t.Fatalf("migrated YAML does not load: %v\n%s", err, b)
				}
				if cfg.Global.Node == "" {
					cfg.Global.Node = configs.DefaultGlobal().Node // without router_id: the host name
				}
				if diff := cmp.Diff(cfg, back, cmpOpts); diff != "" {
					t.Errorf("round trip (-migrated +loaded):\n%s", diff)
				}
				if err := back.Validate(nil); err != nil {
					t.Errorf("migrated config does not validate:\n%v\n%s", err, b)
				}
			}
			golden := strings.TrimSuffix(f, ".conf") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func configID(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "# vipd-migrate: --config-id "); ok {
			return strings.TrimSpace(id)
		}
	}
	return ""
}
