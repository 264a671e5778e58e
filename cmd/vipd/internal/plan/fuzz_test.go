package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
)

// FuzzLoad feeds arbitrary YAML and VIPD_ environment (one variable a
// line) through configs.LoadBytes and plan.Build, as `vipd run` does
// (without host checks): neither panics; a configuration that does not
// load is refused with an error, a loaded one that does not build with
// every problem in a *configs.ValidationErrors, and a built plan's
// instances carry a valid VRRP identity. Seeds: the shipped examples.
func FuzzLoad(f *testing.F) {
	var files []string
	for _, glob := range []string{"../../../../deploy/examples/*.yaml", "../../../../deploy/*/*.yaml"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		f.Fatal("no example configurations found under deploy/")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte("instances:\n- name: a\n  interface: lo\n  vrid: 1\n  priority: 100\n  vips: [192.0.2.1]\n"),
		"VIPD_INSTANCES_0_PRIORITY=300\nVIPD_GLOBAL_NODE=x\nVIPD_INSTANCES_1_VIPS=2001:db8::1")
	f.Add([]byte("scripts: {chk: {command: /bin/true, interval: 0.1}}\n"), "VIPD_SCRIPTS_0_WEIGHT=-300")
	f.Add([]byte("{"), "")
	f.Add([]byte("instances: [[]]\nglobal: 3\n"), "VIPD_INSTANCES_99999999999999999999_VRID=1")
	f.Fuzz(func(t *testing.T, yaml []byte, envText string) {
		env := strings.Split(envText, "\n")
		cfg, err := configs.LoadBytes(yaml, env)
		if cfg == nil {
			if err == nil {
				t.Fatal("LoadBytes: nil configuration and no error")
			}
			return
		}
		if err != nil {
			var ve *configs.ValidationErrors
			if !errors.As(err, &ve) || len(ve.Errs) == 0 {
				t.Fatalf("LoadBytes returned a configuration and %T %v, want *configs.ValidationErrors", err, err)
			}
			return
		}
		p, err := plan.Build(cfg)
		if err != nil {
			var ve *configs.ValidationErrors
			if !errors.As(err, &ve) || len(ve.Errs) == 0 {
				t.Fatalf("Build: %T %v, want *configs.ValidationErrors", err, err)
			}
			if p != nil {
				t.Fatal("Build returned a plan and an error")
			}
			return
		}
		for _, in := range p.Instances {
			r := in.Router
			if r.VRID == 0 || (r.Version != 2 && r.Version != 3) || (in.Family != 4 && in.Family != 6) {
				t.Fatalf("instance %s built with vrid %d version %d family %d", in.Name, r.VRID, r.Version, in.Family)
			}
		}
	})
}
