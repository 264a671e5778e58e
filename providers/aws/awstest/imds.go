package awstest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vipd/vipd/providers/cloudtest"
)

// Instance is what the fake IMDS tells about its instance.
type Instance struct {
	InstanceID string
	Region     string // availability zone is Region + "a"
	PrivateIP  string
	// MAC of the primary interface; ENIs maps every MAC to its ENI id and
	// must contain MAC.
	MAC  string
	ENIs map[string]string
	// Role, when set, is served under iam/security-credentials/ with the
	// package's test credentials (AccessKeyID, SecretAccessKey).
	Role string
}

// IMDS is a fake EC2 instance metadata service, version 2 only: a GET
// without a token issued by PUT /latest/api/token gets 401.
type IMDS struct {
	// Server records every request; actions are "METHOD /path".
	*cloudtest.Server

	url   string
	extra *http.Server
	once  sync.Once

	mu     sync.Mutex
	inst   Instance
	tokens map[string]bool
}

// NewIMDS starts a fake IMDS for inst on addr ("" or "127.0.0.1:0": a free
// loopback port). Close it when done.
func NewIMDS(addr string, inst Instance) (*IMDS, error) {
	if addr == "" || addr == "127.0.0.1:0" {
		m := newIMDS(inst)
		m.url = m.Server.URL
		return m, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("awstest: listen %s: %w", addr, err)
	}
	return NewIMDSListener(l, inst), nil
}

// NewIMDSListener starts a fake IMDS for inst serving on l. Close closes l.
func NewIMDSListener(l net.Listener, inst Instance) *IMDS {
	m := newIMDS(inst)
	m.extra = &http.Server{Handler: m.Config.Handler}
	m.url = "http://" + l.Addr().String()
	go func() { _ = m.extra.Serve(l) }() // owned by m; ends on Close
	return m
}

func newIMDS(inst Instance) *IMDS {
	m := &IMDS{inst: inst, tokens: map[string]bool{}}
	m.Server = cloudtest.New(func(r *http.Request, _ map[string]string) string {
		return r.Method + " " + r.URL.Path
	}, m.handle)
	return m
}

// URL is the base URL to use as the IMDS endpoint.
func (m *IMDS) URL() string { return m.url }

// Close stops the server. It is safe to call more than once.
func (m *IMDS) Close() {
	m.once.Do(func() {
		if m.extra != nil {
			_ = m.extra.Close()
		}
		m.Server.Close()
	})
}

const tokenHeader = "X-Aws-Ec2-Metadata-Token"

func (m *IMDS) handle(r cloudtest.Request) cloudtest.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	text := func(s string) cloudtest.Response {
		return cloudtest.Response{Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(s)}
	}
	if r.Method == http.MethodPut && r.Path == "/latest/api/token" {
		ttl := r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")
		if ttl == "" {
			return cloudtest.Response{Status: http.StatusBadRequest}
		}
		tok := fmt.Sprintf("imds-token-%d", len(m.tokens)+1)
		m.tokens[tok] = true
		resp := text(tok)
		resp.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)
		return resp
	}
	if r.Method != http.MethodGet {
		return cloudtest.Response{Status: http.StatusMethodNotAllowed}
	}
	if !m.tokens[r.Header.Get(tokenHeader)] {
		return cloudtest.Response{Status: http.StatusUnauthorized}
	}
	in := m.inst
	const md = "/latest/meta-data/"
	switch p := r.Path; {
	case p == md+"instance-id":
		return text(in.InstanceID)
	case p == md+"mac":
		return text(in.MAC)
	case p == md+"local-ipv4":
		return text(in.PrivateIP)
	case p == md+"placement/region":
		return text(in.Region)
	case p == md+"placement/availability-zone":
		return text(in.Region + "a")
	case p == md+"network/interfaces/macs/" || p == md+"network/interfaces/macs":
		var macs []string
		for mac := range in.ENIs {
			macs = append(macs, mac+"/")
		}
		sort.Strings(macs)
		return text(strings.Join(macs, "\n"))
	case strings.HasPrefix(p, md+"network/interfaces/macs/") && strings.HasSuffix(p, "/interface-id"):
		mac := strings.TrimSuffix(strings.TrimPrefix(p, md+"network/interfaces/macs/"), "/interface-id")
		if eni, ok := in.ENIs[mac]; ok {
			return text(eni)
		}
	case p == "/latest/dynamic/instance-identity/document":
		b, _ := json.Marshal(map[string]string{
			"instanceId": in.InstanceID, "region": in.Region, "availabilityZone": in.Region + "a",
			"privateIp": in.PrivateIP, "accountId": "123456789012", "version": "2017-09-30",
		})
		return cloudtest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
	case in.Role != "" && (p == md+"iam/security-credentials/" || p == md+"iam/security-credentials"):
		return text(in.Role)
	case in.Role != "" && p == md+"iam/security-credentials/"+in.Role:
		b, _ := json.Marshal(map[string]string{
			"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": time.Now().UTC().Format(time.RFC3339),
			"AccessKeyId": AccessKeyID, "SecretAccessKey": SecretAccessKey, "Token": "vipd-test-session",
			"Expiration": time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		})
		return cloudtest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
	}
	return cloudtest.Response{Status: http.StatusNotFound}
}
