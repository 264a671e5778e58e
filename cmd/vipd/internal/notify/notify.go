package notify

import (
	"context"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"time"

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

// Runner runs the notify commands of one instance, sync group or service.
type Runner struct {
	log     *slog.Logger
	kind    Kind
	name    string
	mu      sync.Mutex // guards cmds
	cmds    plan.Notify
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

func (r *Runner) commands() plan.Notify {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmds
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
		r.run(ctx, "command", exec.Command("/bin/sh", "-c", j.cmd))
		return
	}
	cmds := r.commands()
	cmd, state := cmds.Command(j.to)
	if cmd != "" {
		r.run(ctx, state, exec.Command("/bin/sh", "-c", cmd))
	}
	if cmds.Generic != "" {
		// keepalived: <script> INSTANCE|GROUP <name> <STATE> <priority>
		r.run(ctx, state, exec.Command("/bin/sh", "-c", cmds.Generic+` "$@"`, "sh",
			r.kind.String(), r.name, state, strconv.Itoa(int(j.priority))))
	}
}

func (r *Runner) run(ctx context.Context, state string, cmd *exec.Cmd) {
	// A started script (e.g. STOP at shutdown) finishes, within Timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Timeout)
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
