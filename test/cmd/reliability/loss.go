package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// lossResult mirrors test/reliability/vmloss.Result.
type lossResult struct {
	Daemon        string        `json:"daemon"`
	Advert        time.Duration `json:"advert"`
	Loss          int           `json:"loss_percent"`
	Duration      time.Duration `json:"duration"`
	MasterEntries [2]int        `json:"master_entries"`
	HolderChanges int           `json:"holder_changes"`
	Dual          time.Duration `json:"dual_master"`
	None          time.Duration `json:"no_master"`
	Converge      time.Duration `json:"converge"`
	Bound         time.Duration `json:"bound"`
	Dropped       uint32        `json:"netem_dropped"`
	Err           string        `json:"error,omitempty"`
}

// convergeMargin is added to 3 × advert + skew: the 10 ms sampling of the
// holders plus the TCG VM's scheduling (software emulation, 8 pairs at once).
const convergeMargin = 100 * time.Millisecond

// runLoss builds the vmloss test binary and runs it in the kernel VM with
// netem; this host's kernel has none.
func runLoss(t *caseTB, c *config) {
	dur := c.scale(20*time.Second, 2*time.Minute)
	dir := t.TempDir()
	bin := filepath.Join(dir, "vmloss.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./test/reliability/vmloss")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build vmloss: %v\n%s", err, out)
	}
	vipd := filepath.Join(dir, "vipd")
	if err := copyFile(c.vipd, vipd); err != nil {
		t.Fatalf("%v", err)
	}
	args := []string{"test/vm/run.sh", "-m", "sch_netem", "-t", fmt.Sprint(int((dur + 3*time.Minute).Seconds())),
		"-f", vipd, "-e", "RELIAB_LOSS_DURATION=" + dur.String()}
	if ka, err := exec.LookPath("keepalived"); err == nil {
		args = append(args, "-f", ka)
	}
	args = append(args, bin, "-test.v", "-test.run", "TestKernelLoss", "-test.timeout", (dur + 2*time.Minute).String())
	cmd := exec.Command("bash", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 77 {
		c.rep.Note("loss: skipped, qemu cannot run here: %s", strings.TrimSpace(tail(out.String(), 1)))
		return
	}
	var rs []lossResult
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if i := strings.Index(l, "RELIAB "); i >= 0 {
			var r lossResult
			if json.Unmarshal([]byte(l[i+len("RELIAB "):]), &r) == nil {
				rs = append(rs, r)
			}
		}
	}
	if err != nil || len(rs) == 0 {
		t.Fatalf("vm run: %v, %d results\n%s", err, len(rs), tail(out.String(), 40))
	}
	c.rep.Note("loss: in the kernel VM (qemu, software emulation unless VIPD_VM_ACCEL=kvm), all %d pairs at once; "+
		"netem drops the share of every packet each node sends; its timing goals are reported, not enforced", len(rs))
	// keepalived's figures for the same advert and loss, for the target
	// "no more flaps than keepalived".
	kaFlaps := map[string]int{}
	for _, r := range rs {
		if r.Daemon == "keepalived" {
			kaFlaps[fmt.Sprint(r.Advert, r.Loss)] = r.MasterEntries[0] + r.MasterEntries[1]
		}
	}
	for _, r := range rs {
		cs := fmt.Sprintf("loss %d%% / advert %v / %v (VM)", r.Loss, r.Advert, r.Duration)
		if r.Err != "" {
			c.rep.Check(cs, r.Daemon, "run", r.Err, "completes", false)
			continue
		}
		flaps := r.MasterEntries[0] + r.MasterEntries[1]
		val := fmt.Sprintf("%d (n1 %d, n2 %d; holder changes %d)", flaps, r.MasterEntries[0], r.MasterEntries[1], r.HolderChanges)
		switch {
		case r.Daemon == "vipd" && r.Loss == 10:
			c.rep.Goal(cs, r.Daemon, "MASTER entries during loss", val, "0", flaps == 0)
		case r.Daemon == "vipd":
			k, ok := kaFlaps[fmt.Sprint(r.Advert, r.Loss)]
			if ok {
				c.rep.Goal(cs, r.Daemon, "MASTER entries during loss", val, fmt.Sprintf("≤ keepalived (%d)", k), flaps <= k)
			} else {
				c.rep.Info(cs, r.Daemon, "MASTER entries during loss", val)
			}
		default:
			c.rep.Info(cs, r.Daemon, "MASTER entries during loss", val)
		}
		c.rep.Info(cs, r.Daemon, "dual-master time / no-master time", ms(r.Dual)+" / "+ms(r.None))
		bound := r.Bound + convergeMargin
		c.rep.Goal(cs, r.Daemon, "one holder after the loss ends", ms(r.Converge),
			fmt.Sprintf("≤ 3×advert+skew+%v = %v", convergeMargin, ms(bound)), r.Converge <= bound)
		c.rep.Info(cs, r.Daemon, "packets netem dropped", fmt.Sprint(r.Dropped))
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
