package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/providers/netlink"
)

func newCleanupCmd(e *env) *cobra.Command {
	var path string
	var timeout time.Duration
	var keepLVS bool
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove this configuration's VIPs and IPVS services left by a dead vipd",
		Long: `Cleanup removes what a vipd that died without releasing (kill -9, OOM,
panic) left behind for this configuration: its VIPs on their interfaces
(netlink; cloud assignments are left to the peer's takeover) and, with
virtual servers configured, the IPVS services vipd programmed for them
(services of other programs are never touched; skipped where IPVS is not
loaded). It refuses, and exits 1, while a vipd runs for the configuration:
its status socket answers, or a "vipd run" process uses the same file.

The systemd unit runs it as ExecStopPost=, so no stale VIP stays behind
after any exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, cfg, err := plan.Load(path, e.environ, nil)
			if err != nil {
				if cfg == nil {
					return err
				}
				return fmt.Errorf("invalid configuration %s:\n%w", path, err)
			}
			if why, running := vipdRunning(p.Global.StatusSocket, path, "/proc", os.Getpid()); running {
				return fmt.Errorf("cleanup: refusing: vipd is running for %s (%s); stop it first", orDash(path), why)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			var errs []error
			if err := cleanupVIPs(ctx, p, log); err != nil {
				errs = append(errs, err)
			}
			if len(p.Services) > 0 && !keepLVS && p.LVS.OnStop != plan.Keep {
				if err := cleanupLVS(ctx, p, log); err != nil {
					errs = append(errs, err)
				}
			}
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("cleanup: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, `configuration file ("" for environment only)`)
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	cmd.Flags().BoolVar(&keepLVS, "keep-lvs", false, "leave the IPVS services (upgrades without dropping connections)")
	return cmd
}

// vipdRunning reports whether a vipd runs for the configuration at
// cfgPath, and why it thinks so. Two independent checks, so that neither a
// stale socket file (kill -9 leaves it) nor a disabled or moved socket
// misleads it:
//   - the status socket accepts a connection (a wedged agent still
//     accepts: it runs). A refused connection or a missing file means no
//     agent; any other error (permission, timeout) counts as running, the
//     safe answer;
//   - a "vipd run" process in procRoot uses the same configuration file.
func vipdRunning(socket, cfgPath, procRoot string, self int) (string, bool) {
	if socket != "" {
		c, err := net.DialTimeout("unix", socket, time.Second)
		switch {
		case err == nil:
			c.Close()
			return "status socket " + socket + " answers", true
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, fs.ErrNotExist):
		default:
			return fmt.Sprintf("status socket %s: %v", socket, err), true
		}
	}
	if pid, ok := findVipdRun(procRoot, cfgPath, self); ok {
		return "process " + strconv.Itoa(pid) + ` is "vipd run" with this configuration`, true
	}
	return "", false
}

// findVipdRun returns a process in procRoot (normally /proc) other than
// self whose command line is "vipd run" with configuration cfgPath (the
// -c/--config flag, relative paths resolved against the process's working
// directory, defaultConfigPath without the flag).
func findVipdRun(procRoot, cfgPath string, self int) (int, bool) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, false
	}
	want, wantErr := os.Stat(cfgPath)
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join(procRoot, ent.Name())
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(b) == 0 {
			continue // gone, or a zombie
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		p, ok := runConfig(args)
		if !ok {
			continue
		}
		if p == cfgPath {
			return pid, true
		}
		if p == "" || cfgPath == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			if cwd, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil {
				p = filepath.Join(cwd, p)
			}
		}
		if wantErr == nil {
			if got, err := os.Stat(p); err == nil && os.SameFile(want, got) {
				return pid, true
			}
		}
		if abs, err := filepath.Abs(cfgPath); err == nil && filepath.Clean(p) == abs {
			return pid, true
		}
	}
	return 0, false
}

// runConfig reports whether args is a "vipd run" command line and returns
// its configuration path.
func runConfig(args []string) (string, bool) {
	if len(args) < 2 || filepath.Base(args[0]) != "vipd" {
		return "", false
	}
	path, isRun := defaultConfigPath, false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c" || a == "--config":
			if i+1 < len(args) {
				path = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--config="):
			path = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-c="):
			path = strings.TrimPrefix(a, "-c=")
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			path = a[2:]
		case a == "run" && !isRun:
			isRun = true
		}
	}
	return path, isRun
}

// cleanupVIPs removes every VIP of the plan that the agent puts on an
// interface (netlink, or a cloud provider without no_local_address).
func cleanupVIPs(ctx context.Context, p *plan.Plan, log *slog.Logger) error {
	nl := netlink.New(netlink.Options{}, log)
	defer nl.Close()
	var errs []error
	for _, in := range p.Instances {
		if in.Provider.Local == nil {
			continue
		}
		for _, v := range in.VIPs {
			if err := nl.Cleanup(ctx, v); err != nil {
				errs = append(errs, fmt.Errorf("instance %s: %w", in.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// cleanupLVS removes the IPVS services of the plan's virtual servers (group
// members expanded), nothing else. Without IPVS in the kernel there is
// nothing to remove (and the module is not loaded for it).
func cleanupLVS(ctx context.Context, p *plan.Plan, log *slog.Logger) error {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		log.Info("ipvs not loaded, no services to remove")
		return nil
	}
	r, err := lvs.NewKernelReconciler("", lvs.Config{Logger: log})
	if err != nil {
		return err
	}
	defer r.Close()
	if p.LVS.OnStop == plan.FlushAll {
		return r.FlushAll(ctx) // lvs_flush_on_stop, as vipd's own stop does
	}
	return r.RemoveOwned(ctx, lvsKeys(p)...)
}

// lvsKeys returns the IPVS service keys of the plan's virtual servers, as
// the agent programs them.
func lvsKeys(p *plan.Plan) []lvs.ServiceKey {
	var keys []lvs.ServiceKey
	for _, s := range p.Services {
		if len(s.Group) == 0 {
			keys = append(keys, s.State.Key())
			continue
		}
		for _, st := range lvs.ExpandGroup(s.State, s.Group) {
			keys = append(keys, st.Key())
		}
	}
	return keys
}
