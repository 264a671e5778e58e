package notify

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/vrrp"
)

// Kind is keepalived's first notify argument: what changed state.
type Kind int

// Kinds.
const (
	Instance Kind = iota // a VRRP instance
	Group                // a sync group
	Service              // a virtual server (quorum_up / quorum_down)
)

func (k Kind) String() string {
	switch k {
	case Group:
		return "GROUP"
	case Service:
		return "SERVICE"
	}
	return "INSTANCE"
}

// DefaultTimeout bounds one command.
const DefaultTimeout = 30 * time.Second

// queueSize bounds the queued commands of one Runner.
const queueSize = 64

// Exec is how the commands run: as keepalived's script_user (User, "name"
// or "name:group") and, with Security (enable_script_security), only when
// the script (the command's first word) cannot be changed by a user other
// than root or User. The zero value runs them as vipd's own user, unchecked.
type Exec struct {
	User     string
	Security bool
}

// Runner runs the notify commands of one instance, sync group or service.
type Runner struct {
	log     *slog.Logger
	kind    Kind
	name    string
	mu      sync.Mutex // guards cmds and ex
	cmds    plan.Notify
	ex      Exec
	Timeout time.Duration
	queue   chan job
}

type job struct {
	to       vrrp.State
	priority uint8
	cmd      string // set: run this command instead of the notify commands
}

// New returns a Runner for cmds of the instance, group or service name.
func New(log *slog.Logger, kind Kind, name string, cmds plan.Notify) *Runner {
	return &Runner{log: log, kind: kind, name: name, cmds: cmds, Timeout: DefaultTimeout, queue: make(chan job, queueSize)}
}

// Set replaces the commands (a live reload); queued transitions run the
// new ones.
func (r *Runner) Set(cmds plan.Notify) {
	r.mu.Lock()
	r.cmds = cmds
	r.mu.Unlock()
}

// SetExec sets how the commands run (see Exec); call it before Run or on
// a reload.
func (r *Runner) SetExec(e Exec) {
	r.mu.Lock()
	r.ex = e
	r.mu.Unlock()
}

func (r *Runner) commands() plan.Notify {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmds
}

func (r *Runner) exe() Exec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ex
}

// Transition queues the commands for a transition to state to.
func (r *Runner) Transition(to vrrp.State, priority uint8) {
	if r.commands().Empty() {
		return
	}
	r.enqueue(job{to: to, priority: priority})
}

// Command queues a plain command (quorum_up / quorum_down); "" does nothing.
func (r *Runner) Command(cmd string) {
	if cmd != "" {
		r.enqueue(job{cmd: cmd})
	}
}

func (r *Runner) enqueue(j job) {
	select {
	case r.queue <- j:
	default:
		r.log.Warn("notify queue full, dropped", "to", j.to.String(), "cmd", j.cmd)
	}
}

// Run runs queued commands until ctx ends, then those still queued.
func (r *Runner) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-r.queue:
					r.exec(context.WithoutCancel(ctx), j)
				default:
					return
				}
			}
		case j := <-r.queue:
			r.exec(ctx, j)
		}
	}
}

func (r *Runner) exec(ctx context.Context, j job) {
	if j.cmd != "" {
		r.run(ctx, "command", j.cmd)
		return
	}
	cmds := r.commands()
	cmd, state := cmds.Command(j.to)
	if cmd != "" {
		r.run(ctx, state, cmd)
	}
	if cmds.Generic != "" {
		// keepalived: <script> INSTANCE|GROUP <name> <STATE> <priority>
		r.run(ctx, state, cmds.Generic, r.kind.String(), r.name, state, strconv.Itoa(int(j.priority)))
	}
}

// run runs the shell command cmd with args ($1…). A started script (e.g.
// STOP at shutdown) finishes, within Timeout.
func (r *Runner) run(ctx context.Context, state, cmd string, args ...string) {
	ctx = context.WithoutCancel(ctx)
	if ex := r.exe(); ex != (Exec{}) {
		// As script_user and/or checked: the way check scripts run
		// (own process group, killed as a group at the timeout).
		line := cmd
		for _, a := range args {
			line += " " + shellQuote(a)
		}
		c, err := checks.NewExecChecker(checks.ExecConfig{Command: line, Timeout: r.Timeout,
			User: ex.User, Security: ex.Security, Env: os.Environ()})
		if err != nil {
			r.log.Error("notify refused", "state", state, "cmd", cmd, "err", err)
			return
		}
		if res := c.Check(ctx); !res.OK {
			r.log.Warn("notify script failed", "state", state, "cmd", cmd, "user", ex.User, "err", res.Reason)
		}
		return
	}
	argv := []string{"-c", cmd}
	if len(args) > 0 {
		argv = []string{"-c", cmd + ` "$@"`, "sh"}
		argv = append(argv, args...)
	}
	r.start(ctx, state, exec.Command("/bin/sh", argv...))
}

// shellQuote quotes s as one word for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (r *Runner) start(ctx context.Context, state string, cmd *exec.Cmd) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	if err := cmd.Start(); err != nil {
		r.log.Error("notify failed", "state", state, "err", err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.log.Warn("notify script failed", "state", state, "cmd", cmd.Args, "err", err)
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done //nolint:errcheck // "signal: killed"; the timeout is logged
		r.log.Warn("notify script timed out", "state", state, "cmd", cmd.Args, "timeout", r.Timeout)
	}
}
