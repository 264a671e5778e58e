package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
)

const defaultConfigPath = "/etc/vipd/vipd.yaml"

// oneProc runs the agent's Go code on one OS thread at a time
// (GOMAXPROCS=1) unless the environment sets GOMAXPROCS. The agent is idle
// nearly always and its work (adverts, checks) waits on the network; with
// more than one P, each goroutine made runnable (a timer, a packet handed
// to an instance) also wakes an idle thread to steal it. Measured on the
// netns bed (make bench-idle): 10 instances at 1 s adverts, 15 → 10
// wake-ups/s; 250 instances, 138 → 84 (master).
func oneProc(environ []string) {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			return
		}
	}
	runtime.GOMAXPROCS(1)
}

func newRunCmd(e *env) *cobra.Command {
	var path, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent until SIGINT/SIGTERM",
		Long: `Run loads the configuration (file and VIPD_* environment variables),
validates it against this host and runs the agent. On SIGINT or SIGTERM it
releases its VIPs and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneProc(e.environ)
			// --log-format / --log-level are applied as if set in the file.
			env := e.environ
			if logFormat != "" {
				env = append(slices.Clip(env), configs.EnvPrefix+"GLOBAL_LOG_FORMAT="+logFormat)
			}
			if logLevel != "" {
				env = append(slices.Clip(env), configs.EnvPrefix+"GLOBAL_LOG_LEVEL="+logLevel)
			}
			// Problems in the configuration itself stop here; problems with
			// this host (an interface that is missing for now, an address
			// not configured yet) are logged and the agent runs: the
			// instances concerned wait in FAULT, naming the cause.
			p, cfg, err := plan.Load(path, env, nil)
			if err != nil {
				if cfg == nil {
					return err
				}
				return fmt.Errorf("invalid configuration %s:\n%w", path, err)
			}
			log, err := newLogger(e.stderr, cfg.Global.LogFormat, cfg.Global.LogLevel)
			if err != nil {
				return err
			}
			for _, w := range p.Warnings {
				log.Warn("configuration", "warning", w)
			}
			if err := cfg.Validate(configs.HostSystem{}); err != nil {
				var ve *configs.ValidationErrors
				if errors.As(err, &ve) {
					for _, p := range ve.Errs {
						log.Warn("configuration does not match this host (yet)", "err", p)
					}
				} else {
					log.Warn("configuration does not match this host (yet)", "err", err)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			log.Info("starting", "version", versionString(), "config", path, "instances", len(cfg.Instances))
			var ag *agent.Agent
			sd := newSDNotifier(log)
			notify := func(f func() error) {
				if err := f(); err != nil {
					log.Warn("systemd notify failed", "err", err)
				}
			}
			// reload re-reads the file and the environment; an invalid
			// configuration is logged problem by problem and the running
			// one stays.
			reload := func(ctx context.Context) (string, error) {
				notify(sd.Reloading)
				defer notify(sd.Ready)
				np, _, err := plan.Load(path, env, nil)
				if err != nil {
					var ve *configs.ValidationErrors
					if errors.As(err, &ve) {
						for _, p := range ve.Errs {
							log.Error("reload: invalid configuration, keeping the running one", "err", p)
						}
					} else {
						log.Error("reload: invalid configuration, keeping the running one", "err", err)
					}
					ag.InvalidReload()
					return "", err
				}
				return ag.Reload(ctx, np)
			}
			ag = agent.New(p, log, agent.DefaultHost(), agent.Hooks{
				Reload:   reload,
				Ready:    func() { notify(sd.Ready) },
				Stopping: func() { notify(sd.Stopping) },
			})
			go func() {
				if err := sd.Watchdog(ctx, ag.Alive); err != nil {
					log.Warn("systemd watchdog", "err", err)
				}
			}()
			// SIGHUP reloads, as keepalived's; it never ends the process.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						log.Info("SIGHUP: reloading", "config", path)
						if _, err := reload(ctx); err != nil && !errors.Is(err, context.Canceled) {
							log.Error("reload failed", "err", err)
						}
					}
				}
			}()
			if err := ag.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, `configuration file ("" for environment only)`)
	cmd.Flags().StringVar(&logFormat, "log-format", "", "text or json (overrides global.log_format)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (overrides global.log_level)")
	return cmd
}

// newLogger builds the agent's logger.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
