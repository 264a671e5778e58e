package awstest

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestListenerAndAuth checks the fake serves on a caller's listener and
// refuses unsigned requests and tokenless IMDS reads.
func TestListenerAndAuth(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServerListener(l)
	defer s.Close()
	defer s.Close() // twice is fine
	if s.URL() != "http://"+l.Addr().String() {
		t.Errorf("URL = %s, want the listener's address %s", s.URL(), l.Addr())
	}
	resp, err := http.PostForm(s.URL()+"/", url.Values{"Action": {"DescribeAddresses"}, "Version": {"2016-11-15"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: status %d, want 401", resp.StatusCode)
	}
	if got := s.Actions(); len(got) != 1 || got[0] != "DescribeAddresses" {
		t.Errorf("recorded actions %v, want [DescribeAddresses]", got)
	}
	if s.TotalWrites() != 0 {
		t.Errorf("writes %d, want 0", s.TotalWrites())
	}

	m, err := NewIMDS("127.0.0.1:0", Instance{InstanceID: "i-1", Region: "r", MAC: "m", ENIs: map[string]string{"m": "eni-1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err = http.Get(m.URL() + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tokenless IMDS GET: status %d, want 401", resp.StatusCode)
	}
	if !strings.HasPrefix(m.Actions()[0], "GET ") {
		t.Errorf("IMDS action %q, want METHOD path", m.Actions()[0])
	}
}
