package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Descendants returns every descendant of pid (ip netns exec execs the
// daemon; keepalived forks its VRRP and checker children).
func Descendants(pid int) []int {
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	var res []int
	for _, f := range strings.Fields(string(out)) {
		if c, err := strconv.Atoi(f); err == nil {
			res = append(res, c)
			res = append(res, Descendants(c)...)
		}
	}
	return res
}

// CPUTicks is the utime+stime of pids in clock ticks (1/100 s); a process
// that is gone counts 0.
func CPUTicks(pids ...int) int {
	total := 0
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		fs := strings.Fields(s[strings.LastIndex(s, ")")+2:])
		u, _ := strconv.Atoi(fs[11])
		st, _ := strconv.Atoi(fs[12])
		total += u + st
	}
	return total
}

// RSSKiB is pid's resident set size in KiB (0 when it is gone).
func RSSKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
