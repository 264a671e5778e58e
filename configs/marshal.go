package configs

import (
	"bytes"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// MarshalYAML writes cfg as vipd YAML, leaving out every key whose value is
// the default (so the output is short and Load gives cfg back).
func MarshalYAML(cfg *Config) ([]byte, error) {
	n := toNode(reflect.ValueOf(*cfg), elementDefault(reflect.TypeFor[Config]()), true)
	// The host name default is not portable: write global.node when set,
	// never an empty one (Load turns "" into the host name).
	if cfg.Global.Node != "" && !hasKey(n, "global") {
		n.Content = append([]*yaml.Node{scalar("global", "!!str"), {Kind: yaml.MappingNode}}, n.Content...)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "global" {
			continue
		}
		g := n.Content[i+1]
		delKey(g, "node")
		if cfg.Global.Node != "" {
			g.Content = append([]*yaml.Node{scalar("node", "!!str"), scalar(cfg.Global.Node, "!!str")}, g.Content...)
		}
		if len(g.Content) == 0 {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
		}
		break
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func delKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
