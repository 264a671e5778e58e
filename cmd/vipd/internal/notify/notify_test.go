package notify

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/vrrp"
)

// runOne queues a transition to Master and runs the queue until it is done.
func runOne(t *testing.T, r *Runner) {
	t.Helper()
	r.Transition(vrrp.Master, 150)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run drains the queue, then returns
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("notify did not finish")
	}
}

func scriptDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "vipd-notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeScript(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyArgsAsKeepalived(t *testing.T) {
	for _, ex := range []Exec{{}, {Security: true}} {
		d := scriptDir(t)
		out := filepath.Join(d, "out")
		s := filepath.Join(d, "notify.sh")
		writeScript(t, s, `echo "$@" > `+out+"\n", 0o755)
		r := New(slog.New(slog.NewTextHandler(io.Discard, nil)), Instance, "VI 'x'", plan.Notify{Generic: s})
		r.SetExec(ex)
		runOne(t, r)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%+v: script did not run: %v", ex, err)
		}
		if got, want := strings.TrimSpace(string(b)), "INSTANCE VI 'x' MASTER 150"; got != want {
			t.Errorf("%+v: args %q, want %q", ex, got, want)
		}
	}
}

// TestNotifyScriptUser: with script_user the notify script runs as that
// user (root needed); with enable_script_security an insecure script (here
// writable by others) is refused and does not run.
func TestNotifyScriptUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a script as nobody")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := scriptDir(t)
	out := filepath.Join(d, "uid")
	if err := os.WriteFile(out, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o666); err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(d, "master.sh")
	writeScript(t, s, "id -u > "+out+"\n", 0o755)

	r := New(log, Instance, "VI_1", plan.Notify{Master: s})
	r.SetExec(Exec{User: "nobody", Security: true})
	runOne(t, r)
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != nobody.Uid {
		t.Errorf("notify ran as uid %q, want nobody's %s", strings.TrimSpace(string(b)), nobody.Uid)
	}

	insecure := filepath.Join(d, "insecure.sh")
	ran := filepath.Join(d, "ran")
	writeScript(t, insecure, "touch "+ran+"\n", 0o777)
	r = New(log, Instance, "VI_1", plan.Notify{Master: insecure})
	r.SetExec(Exec{Security: true})
	runOne(t, r)
	if _, err := os.Stat(ran); err == nil {
		t.Error("an insecure notify script ran with enable_script_security")
	}
	r = New(log, Instance, "VI_1", plan.Notify{Master: insecure})
	runOne(t, r) // without security it runs
	if _, err := os.Stat(ran); err != nil {
		t.Error("notify script did not run without enable_script_security")
	}
}
