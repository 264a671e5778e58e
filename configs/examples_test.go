package configs_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/configs/configstest"
)

const examplesDir = "../deploy/examples"

// TestExamples loads and validates every deploy/examples/*.yaml.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d examples in %s, want at least 3", len(files), examplesDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := configs.Load(f, []string{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := cfg.Validate(configstest.Default()); err != nil {
				t.Errorf("Validate:\n%v", err)
			}
		})
	}
}

// TestFullExampleHasEveryKey: deploy/examples/full.yaml is the reference, so
// it must mention every key of the schema.
func TestFullExampleHasEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(examplesDir, "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	treeKeys(tree, "", have)
	var missing []string
	for _, k := range typeKeys(reflect.TypeFor[configs.Config](), "") {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("full.yaml does not show these keys:\n%s", strings.Join(missing, "\n"))
	}
}

// typeKeys lists the key paths of a struct type, "[]" for list elements.
func typeKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" {
			continue
		}
		p := prefix + name
		out = append(out, p)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			p += "[]"
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == reflect.TypeFor[configs.Config]().PkgPath() {
			out = append(out, typeKeys(ft, p+".")...)
		}
	}
	slices.Sort(out)
	return out
}

func treeKeys(n any, path string, have map[string]bool) {
	switch v := n.(type) {
	case map[string]any:
		for k, c := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			have[p] = true
			treeKeys(c, p, have)
		}
	case []any:
		for _, c := range v {
			treeKeys(c, path+"[]", have)
		}
	}
}

// TestDeploySamples loads and validates (without host checks) every other
// sample under deploy/, e.g. the cloud pairs, so they follow schema changes.
func TestDeploySamples(t *testing.T) {
	files, err := filepath.Glob("../deploy/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if filepath.Dir(f) == filepath.Clean(examplesDir) {
			continue
		}
		t.Run(f, func(t *testing.T) {
			cfg, err := configs.Load(f, []string{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := cfg.Validate(nil); err != nil {
				t.Errorf("Validate:\n%v", err)
			}
		})
	}
}

// TestFullExampleRoundTrip: MarshalYAML of the reference loads back equal
// (every key type, incl. VIP scalars, maps and pointers, survives).
func TestFullExampleRoundTrip(t *testing.T) {
	cfg, err := configs.Load(filepath.Join(examplesDir, "full.yaml"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := configs.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := configs.LoadBytes(b, nil)
	if err != nil {
		t.Fatalf("LoadBytes: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(cfg, back) {
		t.Errorf("round trip changed the config:\n%s", b)
	}
}
