package agent

import (
	"context"
	"log/slog"
	"os/exec"
	"strconv"
	"time"
)

// notifier runs an instance's notify scripts on every transition, in order,
// off the VRRP loop (keepalived notify / notify_master / notify_backup /
// notify_fault / notify_stop). A slow script delays only later notifications
// of the same instance, never the protocol.
type notifier struct {
	log     *slog.Logger
	name    string            // instance or sync group name
	kind    string            // INSTANCE or GROUP (keepalived's first argument)
	generic string            // notify: called with kind, name, state, priority
	byState map[string]string // MASTER/BACKUP/FAULT/STOP → command
	timeout time.Duration
	queue   chan notification
}

type notification struct {
	state    string
	priority int
	cmd      string // set: run this command instead of the notify scripts
}

func newNotifier(log *slog.Logger, kind, name, generic string, byState map[string]string) *notifier {
	n := &notifier{log: log, kind: kind, name: name, generic: generic, byState: map[string]string{},
		timeout: 30 * time.Second, queue: make(chan notification, 64)}
	for s, c := range byState {
		if c != "" {
			n.byState[s] = c
		}
	}
	return n
}

func (n *notifier) empty() bool { return n.generic == "" && len(n.byState) == 0 }

// command queues a plain command (quorum_up / quorum_down); "" does nothing.
func (n *notifier) command(cmd string) {
	if cmd == "" {
		return
	}
	select {
	case n.queue <- notification{cmd: cmd}:
	default:
		n.log.Warn("command queue full, command dropped", "cmd", cmd)
	}
}

// notify queues a notification; when the queue is full the oldest is kept and
// this one is dropped with a log line (a stuck script must not grow memory).
func (n *notifier) notify(state string, priority int) {
	if n.empty() {
		return
	}
	select {
	case n.queue <- notification{state: state, priority: priority}:
	default:
		n.log.Warn("notify queue full, notification dropped", "state", state)
	}
}

func (n *notifier) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// Deliver what is queued (e.g. the final STOP) with a short bound.
			for {
				select {
				case x := <-n.queue:
					n.exec(context.Background(), x)
				default:
					return
				}
			}
		case x := <-n.queue:
			n.exec(ctx, x)
		}
	}
}

func (n *notifier) exec(ctx context.Context, x notification) {
	if x.cmd != "" {
		n.runCmd(ctx, "command", exec.Command("/bin/sh", "-c", x.cmd))
		return
	}
	if c := n.byState[x.state]; c != "" {
		n.runCmd(ctx, x.state, exec.Command("/bin/sh", "-c", c))
	}
	if n.generic != "" {
		// keepalived: <script> INSTANCE|GROUP <name> <STATE> <priority>
		n.runCmd(ctx, x.state, exec.Command("/bin/sh", "-c", n.generic+` "$@"`, "sh",
			n.kind, n.name, x.state, strconv.Itoa(x.priority)))
	}
}

func (n *notifier) runCmd(ctx context.Context, state string, cmd *exec.Cmd) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.timeout) // a started script (e.g. STOP at shutdown) finishes
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		n.log.Error("notify failed", "state", state, "err", err)
		return
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.log.Warn("notify script failed", "state", state, "cmd", cmd.Args, "err", err)
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		n.log.Warn("notify script timed out", "state", state, "cmd", cmd.Args, "timeout", n.timeout)
	}
}
