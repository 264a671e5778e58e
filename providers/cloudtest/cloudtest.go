package cloudtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Request is one request as the server saw it.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// Params holds query and form parameters, and the top-level fields of a
	// JSON body (non-string values JSON-encoded).
	Params map[string]string
	Body   []byte
	Action string // as extracted by the server's ActionFunc
}

// Response is what a handler returns for one request.
type Response struct {
	Status int // 0 means 200
	Header http.Header
	Body   []byte
}

// ActionFunc extracts the API action name from a request.
type ActionFunc func(r *http.Request, params map[string]string) string

// ActionParam reads the action from the "Action" parameter (AWS EC2 query
// API, Aliyun RPC API).
func ActionParam(_ *http.Request, p map[string]string) string { return p["Action"] }

// ActionHeader reads the action from a header (Tencent Cloud: X-TC-Action).
func ActionHeader(name string) ActionFunc {
	return func(r *http.Request, _ map[string]string) string { return r.Header.Get(name) }
}

// Server records every request and answers with Handler, after Latency.
// Failures queued with FailNext are answered first, per action.
type Server struct {
	*httptest.Server

	mu      sync.Mutex
	reqs    []Request
	fail    map[string][]Response
	handler func(Request) Response
	action  ActionFunc
	latency time.Duration
}

// New starts a server on 127.0.0.1. Close it when done.
func New(action ActionFunc, handler func(Request) Response) *Server {
	s := &Server{fail: map[string][]Response{}, handler: handler, action: action}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetLatency sets the delay before each answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// FailNext answers the next n requests for action with resp instead of the
// handler's answer.
func (s *Server) FailNext(action string, n int, resp Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.fail[action] = append(s.fail[action], resp)
	}
}

// Requests returns a copy of every request recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Actions returns the action of every request recorded so far, in order.
func (s *Server) Actions() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Action)
	}
	return out
}

// Count returns how many requests named action were recorded.
func (s *Server) Count(action string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Action == action {
			n++
		}
	}
	return n
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case bytes.HasPrefix([]byte(ct), []byte("application/x-www-form-urlencoded")):
		if f, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range f {
				params[k] = v[0]
			}
		}
	case len(body) > 0 && body[0] == '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			for k, v := range m {
				var str string
				if json.Unmarshal(v, &str) == nil {
					params[k] = str
				} else {
					params[k] = string(v)
				}
			}
		}
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Params: params, Body: body}
	req.Action = s.action(r, params)

	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	lat := s.latency
	var resp Response
	failed := false
	if q := s.fail[req.Action]; len(q) > 0 {
		resp, s.fail[req.Action], failed = q[0], q[1:], true
	}
	s.mu.Unlock()

	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	if !failed {
		resp = s.handler(req)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
