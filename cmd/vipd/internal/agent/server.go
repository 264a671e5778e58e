package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReloadReply is the answer to POST /reload.
type ReloadReply struct {
	Summary string `json:"summary,omitempty"`
	// Problems lists every problem of an invalid configuration, or why the
	// reload could not be applied; empty on success.
	Problems []string `json:"problems,omitempty"`
}

// serveStatus serves GET /status (JSON) and, with reload, POST /reload on a
// unix socket until ctx ends. The socket is root's (the agent's user's)
// only, mode 0600, or with group mode 0660 owned by that group: see
// listenStatus. A stale socket from a previous run is
// replaced; a live agent's is not. ready receives nil once listening, or the
// error that prevented it.
func serveStatus(ctx context.Context, log *slog.Logger, path, group string, status func() Status, reload func(context.Context) (string, error), ready chan<- error) error {
	l, err := listenStatus(path, group)
	ready <- err
	if err != nil || l == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(status())
	})
	if reload != nil {
		mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
			sum, err := reload(r.Context())
			rep := ReloadReply{Summary: sum}
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				rep.Problems = problems(err)
				w.WriteHeader(http.StatusUnprocessableEntity)
			}
			_ = json.NewEncoder(w).Encode(rep)
		})
	}
	return serveHTTP(ctx, log, l, mux, func() { _ = os.Remove(path) })
}

// listenStatus listens on the unix socket at path, mode 0600 (only the
// agent's user, root, may connect: connecting needs write permission on
// the socket file), or 0660 and owned by group when group (a name or a
// numeric id) is set. The socket is bound and given its mode and owner
// under a temporary name, then renamed to path, so it is never reachable
// at path with the wider mode a umask would give it.
func listenStatus(path, group string) (net.Listener, error) {
	if path == "" {
		return nil, nil
	}
	mode, gid := os.FileMode(0o600), -1
	if group != "" {
		g, err := lookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("status socket group: %w", err)
		}
		mode, gid = 0o660, g
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("status socket %s: another vipd is running", path)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	_ = os.Remove(tmp)
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // path, not tmp, is removed at the end
	fail := func(err error) (net.Listener, error) {
		l.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(err)
	}
	if gid >= 0 {
		if err := os.Chown(tmp, -1, gid); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return l, nil
}

// lookupGroup returns the id of the group named name, or name itself
// when it is a number.
func lookupGroup(name string) (int, error) {
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

// serveMetrics serves Prometheus metrics on addr until ctx ends.
func serveMetrics(ctx context.Context, log *slog.Logger, addr string, reg *prometheus.Registry) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return serveHTTP(ctx, log, l, mux, nil)
}

func serveHTTP(ctx context.Context, log *slog.Logger, l net.Listener, h http.Handler, after func()) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc //nolint:errcheck // http.ErrServerClosed after Shutdown
		if after != nil {
			after()
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		log.Error("http server failed", "addr", l.Addr().String(), "err", err)
		return err
	}
}

// problems splits an error into its lines (a configuration's problems).
func problems(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
