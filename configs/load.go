package configs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable Load reads.
const EnvPrefix = "VIPD_"

// Load reads the YAML file at path (none when path is ""), applies the
// environment variables in env (os.Environ() form; nil means os.Environ()),
// fills in defaults and decodes the result. It does not call Validate.
//
// Environment scheme: VIPD_ followed by the key path upper-cased, with "_"
// between keys and list indexes:
//
//	VIPD_GLOBAL_LOG_LEVEL=debug
//	VIPD_INSTANCES_0_PRIORITY=120
//	VIPD_INSTANCES_0_UNICAST_PEERS=192.0.2.2,192.0.2.3   (lists of scalars: comma separated)
//	VIPD_INSTANCES_0_PROVIDER_TYPE=aws
//	VIPD_INSTANCES_1_TRACK_SCRIPTS_0_NAME=chk_nginx
//	VIPD_INSTANCES_1_TRACK_SCRIPTS=chk_nginx,chk_disk      (track entries: bare names)
//	VIPD_VIRTUAL_SERVERS_0_REAL_SERVERS_1_CHECKS_0_TYPE=tcp
//
// Environment values override the file. An index beyond the file's list
// creates that element (and any missing ones before it), so a whole
// configuration can come from the environment alone. A VIPD_ variable under
// a top-level key (VIPD_GLOBAL_…, VIPD_INSTANCES_…, …) that names no key is an
// error, so typos do not go unnoticed; VIPD_ variables that start with
// anything else are not configuration and are ignored.
//
// Durations accept Go syntax ("100ms", "1m30s") and keepalived-style bare
// seconds (1, "0.1"). VIPs without a prefix length get /32 or /128; a VIP
// may name its interface: "192.0.2.10/32 dev lo" (also in the comma list
// of VIPD_INSTANCES_0_VIPS). Maps of strings (global.webhook.headers) come
// from the environment as "Name=Value,Name2=Value2".
//
// The file may also give scripts as a map keyed by name (the keepalived
// shape): scripts: {chk_nginx: {command: …}}; VIPD_SCRIPTS_N_… then counts
// in the order of the sorted names.
func Load(path string, env []string) (*Config, error) {
	tree := map[string]any{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := yaml.Unmarshal(b, &tree); err != nil {
			return nil, fmt.Errorf("config: parse %s: %w", path, err)
		}
		if tree == nil {
			tree = map[string]any{}
		}
	}
	if env == nil {
		env = os.Environ()
	}
	return decodeTree(tree, env, path)
}

// LoadBytes is Load for YAML already in memory (tests, migrate).
func LoadBytes(b []byte, env []string) (*Config, error) {
	tree := map[string]any{}
	if err := yaml.Unmarshal(b, &tree); err != nil {
		return nil, fmt.Errorf("config: parse: %w", err)
	}
	if tree == nil {
		tree = map[string]any{}
	}
	if env == nil {
		env = []string{}
	}
	return decodeTree(tree, env, "")
}

func decodeTree(tree map[string]any, env []string, path string) (*Config, error) {
	if err := normalizeScripts(tree); err != nil {
		return nil, err
	}
	var errs []error
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) || !isConfigEnv(strings.TrimPrefix(k, EnvPrefix)) {
			continue
		}
		if err := applyEnv(tree, strings.TrimPrefix(k, EnvPrefix), val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	fillDefaults(tree, nil, reflect.TypeFor[Config]())

	// A value that does not decode is reported and left out (its default
	// applies), and the rest is decoded again, so that Validate can report
	// every other problem of the file at the same time.
	var cfg Config
	if err := decode(tree, &cfg); err != nil {
		bad := flattenDecodeError(err).Errs
		errs = append(errs, bad...)
		cfg = Config{}
		if !dropBad(tree, bad) {
			return nil, fmt.Errorf("%s: %w", where(path), &ValidationErrors{Errs: errs})
		}
		if err := decode(tree, &cfg); err != nil {
			errs = append(errs, flattenDecodeError(err).Errs...)
			return nil, fmt.Errorf("%s: %w", where(path), &ValidationErrors{Errs: errs})
		}
	}
	nilEmptySlices(reflect.ValueOf(&cfg).Elem())
	if cfg.Global.Node == "" {
		cfg.Global.Node = DefaultGlobal().Node
	}
	if len(errs) > 0 {
		return &cfg, &ValidationErrors{Errs: errs}
	}
	return &cfg, nil
}

func where(path string) string {
	if path == "" {
		return "config"
	}
	return "config: " + path
}

// decode decodes tree into cfg.
func decode(tree map[string]any, cfg *Config) error {
	v := viper.New()
	if err := v.MergeConfigMap(tree); err != nil {
		return err
	}
	return v.UnmarshalExact(cfg, func(dc *mapstructure.DecoderConfig) {
		dc.TagName = "yaml"
		dc.WeaklyTypedInput = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			trackHook,
			durationHook,
			netipHook,
			headersHook,
			mapstructure.StringToSliceHookFunc(","),
		)
	})
}

// nilEmptySlices sets empty slices to nil so that a loaded Config compares
// equal to one built in Go.
func nilEmptySlices(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if isLeafType(v.Type()) {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				nilEmptySlices(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		for i := range v.Len() {
			nilEmptySlices(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
		}
	}
}

// normalizeScripts turns scripts given as a map keyed by name into the list
// form, sorted by name. Done before viper sees the tree, which lower-cases
// map keys.
func normalizeScripts(tree map[string]any) error {
	m, ok := tree["scripts"].(map[string]any)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	list := make([]any, 0, len(m))
	for _, name := range names {
		s, ok := m[name].(map[string]any)
		if !ok && m[name] != nil {
			return fmt.Errorf("config: scripts.%s: want a mapping", name)
		}
		if s == nil {
			s = map[string]any{}
		}
		s["name"] = name
		list = append(list, s)
	}
	tree["scripts"] = list
	return nil
}

// isConfigEnv reports whether a VIPD_ variable (name without the prefix)
// addresses the configuration: its first words name a top-level key. Others
// (VIPD_IN_VM, VIPD_VM_CACHE of the test tools) are not vipd's to judge.
func isConfigEnv(name string) bool {
	_, _, n := matchField(reflect.TypeFor[Config](), strings.Split(strings.ToLower(name), "_"))
	return n > 0
}

// applyEnv sets the value of one variable (name without prefix) in tree,
// resolving the "_"-joined key path against the Config struct.
func applyEnv(tree map[string]any, name, val string) error {
	toks := strings.Split(strings.ToLower(name), "_")
	var node any = tree
	t := reflect.TypeFor[Config]()
	for len(toks) > 0 {
		m, ok := node.(map[string]any)
		if !ok {
			return errors.New("path goes through a non-mapping value")
		}
		f, key, n := matchField(t, toks)
		if n == 0 {
			return fmt.Errorf("unknown key %q", strings.Join(toks, "_"))
		}
		toks = toks[n:]
		ft := f.Type
		switch {
		case len(toks) == 0:
			m[key] = envValue(ft, val)
			return nil
		case ft.Kind() == reflect.Struct && !isLeafType(ft):
			sub, ok := m[key].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[key] = sub
			}
			node, t = sub, ft
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !isLeafType(ft.Elem()):
			idx, err := strconv.Atoi(toks[0])
			if err != nil || idx < 0 || idx > 1000 {
				return fmt.Errorf("%s: want a list index after it, got %q", key, toks[0])
			}
			toks = toks[1:]
			list, _ := m[key].([]any)
			for len(list) <= idx {
				list = append(list, map[string]any{})
			}
			m[key] = list
			el, ok := list[idx].(map[string]any)
			if !ok {
				el = map[string]any{}
				list[idx] = el
			}
			if len(toks) == 0 {
				return fmt.Errorf("%s_%d: name a key of the element", key, idx)
			}
			node, t = el, ft.Elem()
		case ft.Kind() == reflect.Slice:
			// VIPD_INSTANCES_0_VIPS_1=…: one element of a scalar list.
			idx, err := strconv.Atoi(toks[0])
			if err != nil || len(toks) != 1 || idx < 0 || idx > 1000 {
				return fmt.Errorf("unknown key %q", strings.Join(toks, "_"))
			}
			list, _ := m[key].([]any)
			for len(list) <= idx {
				list = append(list, "")
			}
			list[idx] = val
			m[key] = list
			return nil
		default:
			return fmt.Errorf("unknown key %q", key+"_"+strings.Join(toks, "_"))
		}
	}
	return nil
}

// matchField finds the field of struct t whose key is the longest prefix of
// toks (keys contain "_" too). It returns the number of tokens used.
func matchField(t reflect.Type, toks []string) (reflect.StructField, string, int) {
	for n := len(toks); n > 0; n-- {
		key := strings.Join(toks[:n], "_")
		for i := range t.NumField() {
			f := t.Field(i)
			if yamlName(f) == key {
				return f, key, n
			}
		}
	}
	return reflect.StructField{}, "", 0
}

// envValue converts an environment string for a field of type t: lists of
// scalars are comma separated; everything else is decoded from the string.
func envValue(t reflect.Type, val string) any {
	if t.Kind() == reflect.Slice && !isLeafType(t) {
		if strings.TrimSpace(val) == "" {
			return []any{}
		}
		var out []any
		for p := range strings.SplitSeq(val, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		return out
	}
	return val
}

// ParseDuration parses Go duration syntax ("100ms") or keepalived-style bare
// seconds ("1", "0.1").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f > 1e9 {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(f * float64(time.Second)).Round(time.Microsecond), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use 1s, 100ms or bare seconds)", s)
	}
	return d, nil
}

// trackHook accepts a bare name for a track entry: track_scripts:
// [chk_nginx] (also VIPD_INSTANCES_0_TRACK_SCRIPTS=chk_a,chk_b).
func trackHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[TrackScript]() && to != reflect.TypeFor[TrackInterface]() && to != reflect.TypeFor[TrackBFD]() {
		return data, nil
	}
	if s, ok := data.(string); ok {
		return map[string]any{"name": strings.TrimSpace(s)}, nil
	}
	return data, nil
}

func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		return ParseDuration(d)
	case int:
		return ParseDuration(strconv.Itoa(d))
	case int64:
		return ParseDuration(strconv.FormatInt(d, 10))
	case uint64:
		return ParseDuration(strconv.FormatUint(d, 10))
	case float64:
		return ParseDuration(strconv.FormatFloat(d, 'f', -1, 64))
	case time.Duration:
		return d, nil
	}
	return data, nil
}

// headersHook decodes a map of strings given as one string (environment
// form): "Name=Value,Name2=Value2".
func headersHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[map[string]string]() {
		return data, nil
	}
	s, ok := data.(string)
	if !ok {
		return data, nil
	}
	out := map[string]string{}
	for kv := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q is not Name=Value", kv)
		}
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
	}
	return out, nil
}

func netipHook(from, to reflect.Type, data any) (any, error) {
	if to != addrType && to != prefixType && to != addrPortType && to != vipType {
		return data, nil
	}
	s, ok := data.(string)
	if !ok {
		if data == nil {
			return reflect.Zero(to).Interface(), nil
		}
		return nil, fmt.Errorf("%v is not an address", data)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return reflect.Zero(to).Interface(), nil
	}
	switch to {
	case addrType:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address", s)
		}
		return a, nil
	case prefixType:
		return ParseVIP(s)
	case vipType:
		return ParseVIPEntry(s)
	default:
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP:port (use [v6]:port for IPv6)", s)
		}
		return ap, nil
	}
}

// ParseVIP parses "192.0.2.100/24", "192.0.2.100" (→ /32) or "2001:db8::1"
// (→ /128). The address keeps its host bits.
func ParseVIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address with prefix length", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// flattenDecodeError turns mapstructure's nested errors into one
// "path: reason" line each.
func flattenDecodeError(err error) *ValidationErrors {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if de, ok := e.(*mapstructure.DecodeError); ok {
			inner := de.Unwrap()
			if j, ok := inner.(interface{ Unwrap() []error }); ok {
				for _, x := range j.Unwrap() {
					walk(x)
				}
				return
			}
			if de.Name() == "" {
				out = append(out, inner)
			} else {
				out = append(out, fmt.Errorf("%s: %w", de.Name(), inner))
			}
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
			return
		}
		out = append(out, e)
	}
	walk(err)
	return &ValidationErrors{Errs: out}
}

// dropBad removes from tree the values that bad (decode errors, each
// "key.path[i]: reason") name, so that a second decode sees only the rest.
// It reports false when a path cannot be found.
func dropBad(tree map[string]any, bad []error) bool {
	type listEl struct {
		parent map[string]any
		key    string
		idxs   map[int]bool
	}
	drop := map[string]*listEl{} // by the list's key path
	for _, e := range bad {
		p, reason, ok := strings.Cut(e.Error(), ": ")
		if !ok {
			return false
		}
		toks := splitKeyPath(p)
		var node any = tree
		var parent map[string]any
		var key string
		for _, t := range toks[:len(toks)-1] {
			node, parent, key = step(node, t)
			if node == nil {
				return false
			}
		}
		last := toks[len(toks)-1]
		// mapstructure: "instances[0]: has invalid keys: a, b".
		if names, ok := strings.CutPrefix(reason, "has invalid keys: "); ok {
			m, _ := stepInto(node, last)
			if m == nil {
				return false
			}
			for n := range strings.SplitSeq(names, ", ") {
				delete(m, n)
			}
			continue
		}
		if idx, err := strconv.Atoi(last); err == nil {
			if _, isList := node.([]any); !isList || parent == nil {
				return false
			}
			lp := strings.Join(toks[:len(toks)-1], ".")
			if drop[lp] == nil {
				drop[lp] = &listEl{parent: parent, key: key, idxs: map[int]bool{}}
			}
			drop[lp].idxs[idx] = true
			continue
		}
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		delete(m, last)
	}
	for _, k := range drop {
		list, _ := k.parent[k.key].([]any)
		var kept []any
		for i, v := range list {
			if !k.idxs[i] {
				kept = append(kept, v)
			}
		}
		k.parent[k.key] = kept
	}
	return true
}

// splitKeyPath turns "instances[0].vips[1]" into instances, 0, vips, 1.
func splitKeyPath(p string) []string {
	p = strings.ReplaceAll(p, "[", ".")
	p = strings.ReplaceAll(p, "]", "")
	return strings.Split(p, ".")
}

// step goes from node to its element t, returning it with the map and key
// it was found under (nil parent for list elements).
func step(node any, t string) (next any, parent map[string]any, key string) {
	switch n := node.(type) {
	case map[string]any:
		return n[t], n, t
	case []any:
		i, err := strconv.Atoi(t)
		if err != nil || i < 0 || i >= len(n) {
			return nil, nil, ""
		}
		return n[i], nil, ""
	}
	return nil, nil, ""
}

// stepInto returns the mapping element t of node.
func stepInto(node any, t string) (map[string]any, bool) {
	next, _, _ := step(node, t)
	m, ok := next.(map[string]any)
	return m, ok
}
