package configs

import (
	"encoding"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file converts between the typed structs and generic YAML trees: the
// defaults of list elements are filled in at tree level (so that an explicit
// "preempt: false" stays false), and MarshalYAML writes only non-default keys.

var (
	durationType  = reflect.TypeFor[time.Duration]()
	addrType      = reflect.TypeFor[netip.Addr]()
	prefixType    = reflect.TypeFor[netip.Prefix]()
	addrPortType  = reflect.TypeFor[netip.AddrPort]()
	vipType       = reflect.TypeFor[VIP]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// elementDefault returns the default value of a list element or struct type.
func elementDefault(t reflect.Type) reflect.Value {
	switch t {
	case reflect.TypeFor[Config]():
		return reflect.ValueOf(*DefaultConfig())
	case reflect.TypeFor[Global]():
		return reflect.ValueOf(DefaultGlobal())
	case reflect.TypeFor[Script]():
		return reflect.ValueOf(DefaultScript())
	case reflect.TypeFor[Instance]():
		return reflect.ValueOf(DefaultInstance())
	case reflect.TypeFor[Provider]():
		return reflect.ValueOf(DefaultProvider())
	case reflect.TypeFor[VirtualServer]():
		return reflect.ValueOf(DefaultVirtualServer())
	case reflect.TypeFor[RealServer]():
		return reflect.ValueOf(DefaultRealServer())
	case reflect.TypeFor[Check]():
		return reflect.ValueOf(DefaultCheck())
	case reflect.TypeFor[Route]():
		return reflect.ValueOf(DefaultRoute())
	case reflect.TypeFor[BFDInstance]():
		return reflect.ValueOf(DefaultBFDInstance())
	}
	return reflect.Zero(t)
}

// yamlName returns the key of a struct field ("" for untagged fields).
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// toNode encodes v as a YAML node. With omitDefaults, struct fields equal to
// def are left out (def is the default of v, or invalid for none).
func toNode(v, def reflect.Value, omitDefaults bool) *yaml.Node {
	t := v.Type()
	switch {
	case t == durationType:
		return scalar(formatDuration(time.Duration(v.Int())), "!!str")
	case t.Implements(textMarshaler):
		b, _ := v.Interface().(encoding.TextMarshaler).MarshalText()
		return scalar(string(b), "!!str")
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return scalar("null", "!!null")
		}
		return toNode(v.Elem(), reflect.Value{}, omitDefaults)
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			var fd reflect.Value
			if def.IsValid() {
				fd = def.Field(i)
			} else {
				fd = reflect.Zero(f.Type)
			}
			if omitDefaults && reflect.DeepEqual(fv.Interface(), fd.Interface()) {
				continue
			}
			if omitDefaults && fv.Kind() == reflect.Slice && fv.Len() == 0 && fd.Len() == 0 {
				continue
			}
			var sub reflect.Value
			if f.Type.Kind() == reflect.Struct {
				sub = fd
			}
			child := toNode(fv, sub, omitDefaults)
			if omitDefaults && child.Kind == yaml.MappingNode && len(child.Content) == 0 {
				continue
			}
			n.Content = append(n.Content, scalar(name, "!!str"), child)
		}
		return n
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		et := t.Elem()
		flow := et.Kind() != reflect.Struct || isLeafType(et)
		if flow {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			var ed reflect.Value
			if et.Kind() == reflect.Struct {
				ed = elementDefault(et)
			}
			n.Content = append(n.Content, toNode(v.Index(i), ed, omitDefaults))
		}
		return n
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			n.Content = append(n.Content, scalar(k.String(), "!!str"), toNode(v.MapIndex(k), reflect.Value{}, omitDefaults))
		}
		return n
	case reflect.Bool:
		return scalar(strconv.FormatBool(v.Bool()), "!!bool")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar(strconv.FormatInt(v.Int(), 10), "!!int")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar(strconv.FormatUint(v.Uint(), 10), "!!int")
	case reflect.String:
		return scalar(v.String(), "!!str")
	}
	return scalar(fmt.Sprint(v.Interface()), "!!str")
}

func scalar(s, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s, Tag: tag}
}

// formatDuration writes d the way a human would ("1s", "200ms", "1m30s").
func formatDuration(d time.Duration) string {
	s := d.String()
	// time.Duration.String writes "1m0s", "1h0m0s": trim the zero units.
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// defaultTree returns the default of type t as a generic tree.
func defaultTree(t reflect.Type) map[string]any {
	n := toNode(elementDefault(t), reflect.Value{}, false)
	var m map[string]any
	_ = n.Decode(&m) // the node was built from a struct: always a mapping
	return m
}

// fillDefaults adds the defaults of struct type t to the missing keys of m,
// recursing into nested structs and lists of structs. def is the default
// tree of t (nil: defaultTree(t)).
func fillDefaults(m map[string]any, def map[string]any, t reflect.Type) {
	if def == nil {
		def = defaultTree(t)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		cur, ok := m[name]
		if !ok || cur == nil {
			if d, ok := def[name]; ok && d != nil && f.Type.Kind() != reflect.Slice {
				m[name] = d
			}
			continue
		}
		switch f.Type.Kind() {
		case reflect.Struct:
			if sub, ok := cur.(map[string]any); ok && !isLeafType(f.Type) {
				subDef, _ := def[name].(map[string]any)
				fillDefaults(sub, subDef, f.Type)
			}
		case reflect.Slice:
			if f.Type.Elem().Kind() != reflect.Struct || isLeafType(f.Type.Elem()) {
				continue
			}
			if list, ok := cur.([]any); ok {
				for _, e := range list {
					if em, ok := e.(map[string]any); ok {
						// A fresh default tree per element: no shared maps.
						fillDefaults(em, nil, f.Type.Elem())
					}
				}
			}
		}
	}
}

// isLeafType reports types written as one scalar (addresses, durations).
func isLeafType(t reflect.Type) bool {
	return t == durationType || t.Implements(textMarshaler)
}
