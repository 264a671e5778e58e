package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// env is the daemons' whole environment: nothing from the host (AWS_*,
// VIPD_*) reaches them.
func cleanEnv(dir string) []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir}
}

// startVipd writes cfg and starts vipd with JSON logs in ns.
func startVipd(t harness.TB, ns *harness.NS, bin, dir, name, cfg string) *harness.Proc {
	path := harness.WriteFile(t, dir, name+".yaml", cfg)
	return ns.StartEnv(t, name, dir, cleanEnv(dir), bin, "run", "-c", path, "--log-format", "json")
}

// withGlobal inserts lines (already indented by 2) into a rendered vipd
// config's global block.
func withGlobal(cfg, lines string) string {
	return strings.Replace(cfg, "global:\n", "global:\n"+lines, 1)
}

// vipdStatus is the part of `vipd status --json` the suite reads.
type vipdStatus struct {
	Drops     map[string]int64 `json:"drops"`
	Instances []struct {
		Name          string           `json:"name"`
		State         string           `json:"state"`
		Master        string           `json:"master"`
		ProviderState string           `json:"provider_state"`
		Drops         map[string]int64 `json:"drops"`
	} `json:"instances"`
}

func status(bin, sock string) (vipdStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "status", "--json", "--socket", sock).Output()
	var st vipdStatus
	if err != nil {
		return st, fmt.Errorf("vipd status: %v: %s", err, out)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("vipd status: %v: %s", err, out)
	}
	return st, nil
}

// metric reads one unlabelled sample from vipd's /metrics endpoint, served
// at addr inside ns.
func metric(ns *harness.NS, addr, name string) (float64, error) {
	var c net.Conn
	if err := ns.Do(func() (err error) { c, err = net.DialTimeout("tcp", addr, 2*time.Second); return err }); err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// countFDs counts /proc/PID/fd entries.
func countFDs(pid int) int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(es)
}

// logLine is one JSON log line of vipd.
type logLine struct {
	Time time.Time
	Msg  string
	Attr map[string]any
}

func parseLog(s string) []logLine {
	var out []logLine
	for _, l := range strings.Split(s, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		ts, _ := m["time"].(string)
		at, _ := time.Parse(time.RFC3339Nano, ts)
		msg, _ := m["msg"].(string)
		out = append(out, logLine{Time: at, Msg: msg, Attr: m})
	}
	return out
}

// countLog counts lines with msg whose attributes include every key=value
// of kv, at or after from.
func countLog(s string, from time.Time, msg string, kv ...string) int {
	n := 0
	for _, l := range parseLog(s) {
		if l.Msg != msg || l.Time.Before(from) {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if fmt.Sprint(l.Attr[kv[i]]) != kv[i+1] {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func stats(ds []time.Duration) (mean, sd time.Duration) {
	if len(ds) == 0 {
		return
	}
	var s float64
	for _, d := range ds {
		s += float64(d)
	}
	m := s / float64(len(ds))
	var v float64
	for _, d := range ds {
		v += (float64(d) - m) * (float64(d) - m)
	}
	return time.Duration(m), time.Duration(math.Sqrt(v / float64(len(ds))))
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// buildVipd builds a static vipd into dir.
func buildVipd(dir string) (string, error) {
	bin := filepath.Join(dir, "vipd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vipd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build vipd: %v\n%s", err, out)
	}
	return bin, nil
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
