package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
	"github.com/vipd/vipd/configs"
)

func newStatusCmd(e *env) *cobra.Command {
	var socket, config string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running agent's instances and LVS services",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			socket, err := socketPath(e, config, socket)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			st, err := agent.FetchStatus(ctx, socket)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return formatStatus(e.stdout, st, time.Now())
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the agent's status socket (default: global.status_socket of the configuration)")
	cmd.Flags().StringVarP(&config, "config", "c", defaultConfigPath, "configuration that names the socket (when --socket is not given)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the raw status as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// socketPath is socket, else the configuration's global.status_socket
// (file and environment; without the default file, the default socket).
func socketPath(e *env, config, socket string) (string, error) {
	if socket != "" {
		return socket, nil
	}
	if _, err := os.Stat(config); err != nil && config == defaultConfigPath {
		config = ""
	}
	cfg, err := configs.Load(config, e.environ)
	if cfg == nil {
		return "", err
	}
	return cfg.Global.StatusSocket, nil
}

// formatStatus writes the human status: a header, one row per instance, the
// failing tracks, then the LVS services. now is the reference for ages and
// the time zone of clock times.
func formatStatus(w io.Writer, st agent.Status, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "node %s  vipd %s", orDash(st.Node), orDash(st.Version))
	if !st.StartedAt.IsZero() {
		fmt.Fprintf(&b, "  up %s", age(now.Sub(st.StartedAt)))
	}
	b.WriteString("\n\n")

	groups := slices.ContainsFunc(st.Instances, func(i agent.InstanceStatus) bool { return i.SyncGroup != "" })
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	hdr := "INSTANCE\tIFACE\tVRID\tSTATE\tSINCE\tPRIO\tMASTER\tVIPS\tPROVIDER\tDROPS"
	if groups {
		hdr = "INSTANCE\tGROUP\tIFACE\tVRID\tSTATE\tSINCE\tPRIO\tMASTER\tVIPS\tPROVIDER\tDROPS"
	}
	fmt.Fprintln(tw, hdr)
	if len(st.Instances) == 0 {
		fmt.Fprintln(tw, "(no instances)")
	}
	for _, in := range st.Instances {
		name := in.Name
		if groups {
			name += "\t" + orDash(in.SyncGroup)
		}
		since := "-"
		if !in.Since.IsZero() {
			since = age(now.Sub(in.Since))
		}
		state := in.State
		if in.Version != 0 {
			state = fmt.Sprintf("%s v%d", in.State, in.Version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			name, orDash(in.Interface), in.VRID, state, since, prio(in), orDash(in.Master),
			orDash(strings.Join(in.VIPs, ",")), providerText(in, now), drops(in.Drops))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var notes []string
	for _, in := range st.Instances {
		if in.Reason != "" {
			notes = append(notes, fmt.Sprintf("%s: %s (%s)", in.Name, strings.ToLower(in.State), in.Reason))
		}
		for _, t := range in.Tracks {
			if !t.Up {
				notes = append(notes, fmt.Sprintf("%s: %s %s is down (weight %d)", in.Name, t.Kind, t.Name, t.Weight))
			}
		}
		if in.BFD != "" {
			notes = append(notes, fmt.Sprintf("%s: bfd %s to its peers", in.Name, in.BFD))
		}
		for _, r := range in.Routes {
			notes = append(notes, fmt.Sprintf("%s: with the VIPs: %s", in.Name, r))
		}
	}
	if a := st.Alerts; a != nil {
		notes = append(notes, fmt.Sprintf("alerts: %d sent, %d failed, %d dropped", a.Sent, a.Failed, a.Dropped))
	}
	if d := drops(st.Drops); d != "-" {
		notes = append(notes, "dropped before matching an instance: "+d)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString(n + "\n")
		}
	}

	if len(st.Services) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVICE\tSCHED\tACTIVE\tREAL SERVER\tWEIGHT\tHEALTH\tCONNS (ACT/INACT)")
		for _, s := range st.Services {
			head := fmt.Sprintf("%s\t%s\t%s", s.Name, s.Scheduler, yesNo(s.Active))
			if len(s.RealServers) == 0 {
				fmt.Fprintf(tw, "%s\t(none)\n", head)
			}
			for i, r := range s.RealServers {
				if i > 0 {
					head = "\t\t"
				}
				health := "up"
				if !r.Healthy {
					health = "down"
					if r.CheckReason != "" {
						health += ": " + r.CheckReason
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d/%d\n", head, r.Address, r.Weight, health, r.ActiveConns, r.InactConns)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// prio is "150", or "150/130" when tracking changed the effective priority.
func prio(in agent.InstanceStatus) string {
	if in.EffectivePriority == 0 || in.EffectivePriority == in.Priority {
		return fmt.Sprint(in.Priority)
	}
	return fmt.Sprintf("%d/%d", in.Priority, in.EffectivePriority)
}

// providerText describes where the provider is with the VIPs.
func providerText(in agent.InstanceStatus, now time.Time) string {
	var s string
	switch in.ProviderState {
	case "":
		s = "-"
	case "pending":
		s = "master, VIP pending at provider"
		if !in.Since.IsZero() {
			s += " (" + age(now.Sub(in.Since)) + ")"
		}
	case "confirmed":
		s = "confirmed"
		if !in.ConfirmedAt.IsZero() {
			s += " " + in.ConfirmedAt.In(now.Location()).Format("15:04:05")
			if !in.Since.IsZero() && !in.ConfirmedAt.Before(in.Since) {
				s += " (" + in.ConfirmedAt.Sub(in.Since).Round(100*time.Millisecond).String() + ")"
			}
		}
	case "error":
		s = "error"
		if in.ProviderError != "" {
			s += ": " + in.ProviderError
		}
	default:
		s = in.ProviderState
	}
	if in.Provider != "" {
		s = in.Provider + ": " + s
	}
	return s
}

// drops is "reason=N,…" sorted by reason, or "-".
func drops(m map[string]int64) string {
	var parts []string
	for k, v := range m {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// age is a short duration: 45s, 3m12s, 2h5m, 3d4h.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
