package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ExecChecker is keepalived's MISC_CHECK (and what a vrrp_script runs): the
// probe succeeds when the command exits 0 within Timeout. On timeout the
// whole process group is killed.
type ExecChecker struct {
	cfg    ExecConfig
	argv   []string // what is executed
	script string   // absolute path of the script (first word), for security checks
	cred   *credential
}

// ExecConfig configures an ExecChecker.
type ExecConfig struct {
	// Command is run by /bin/sh -c. Ignored when Argv is set.
	Command string
	// Argv is run directly (Argv[0] is resolved through PATH).
	Argv []string
	// Timeout is misc_timeout; 0 leaves only the caller's ctx.
	Timeout time.Duration
	// Dynamic is misc_dynamic: exit 0 → up, exit 1 → down, exit 2..255 →
	// up with Result.Weight = code-2.
	Dynamic bool
	// User is keepalived's script_user ("name" or "name:group"); empty runs
	// the command as vipd's own user.
	User string
	// Security is enable_script_security: refuse a script that a user other
	// than root or User could change.
	Security bool
	// Env is the command's environment; nil: a minimal PATH only.
	Env []string
}

var _ Checker = (*ExecChecker)(nil)

// Errors reported by NewExecChecker (wrapped with the script's path).
var (
	ErrScriptMissing  = errors.New("not found")
	ErrScriptInsecure = errors.New("insecure script")
)

// NewExecChecker resolves the script, looks up the user and, with
// cfg.Security, refuses an insecure script. Errors name the script, e.g.
// "script /x is writable by others".
func NewExecChecker(cfg ExecConfig) (*ExecChecker, error) {
	c := &ExecChecker{cfg: cfg}
	var first string
	if len(cfg.Argv) > 0 {
		first = cfg.Argv[0]
		c.argv = append([]string(nil), cfg.Argv...)
	} else {
		f := strings.Fields(cfg.Command)
		if len(f) == 0 {
			return nil, errors.New("exec check: empty command")
		}
		first = f[0]
		c.argv = []string{"/bin/sh", "-c", cfg.Command}
	}
	if len(cfg.Argv) == 0 && isShellWord(first) {
		// A builtin or keyword: the program run is the shell itself.
		first = "/bin/sh"
	}
	path, err := resolveScript(first)
	if err != nil {
		return nil, err
	}
	c.script = path
	if len(cfg.Argv) > 0 {
		c.argv[0] = path
	}
	if cfg.User != "" {
		if c.cred, err = lookupCredential(cfg.User); err != nil {
			return nil, fmt.Errorf("exec check: script_user %q: %w", cfg.User, err)
		}
	}
	if cfg.Security {
		if err := c.secure(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// isShellWord reports builtins and keywords that may start a /bin/sh -c
// command without naming a file.
func isShellWord(w string) bool {
	switch w {
	case "exit", "test", "[", "true", "false", ":", "!", "if", "for", "while", "until", "case",
		"{", "(", "echo", "printf", "kill", "read", "cd", "eval", "set", "return":
		return true
	}
	return false
}

// resolveScript finds the first word of a command the way the shell would.
func resolveScript(first string) (string, error) {
	if !strings.Contains(first, "/") {
		p, err := exec.LookPath(first)
		if err != nil {
			return "", fmt.Errorf("script %s %w in PATH", first, ErrScriptMissing)
		}
		first = p
	}
	abs, err := filepath.Abs(first)
	if err != nil {
		return "", fmt.Errorf("script %s: %w", first, err)
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("script %s %w", abs, ErrScriptMissing)
		}
		return "", fmt.Errorf("script %s: %w", abs, err)
	}
	return abs, nil
}

func (c *ExecChecker) String() string {
	if len(c.cfg.Argv) > 0 {
		return "exec " + strings.Join(c.cfg.Argv, " ")
	}
	return "exec " + c.cfg.Command
}

// Script is the absolute path of the command's first word.
func (c *ExecChecker) Script() string { return c.script }

// Check runs the command once.
func (c *ExecChecker) Check(ctx context.Context) Result {
	start := time.Now()
	if c.cfg.Security {
		// The file may have changed since NewExecChecker.
		if err := c.secure(); err != nil {
			return fail(start, err.Error())
		}
	}
	ctx, cancel := withTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = c.cfg.Env
	if cmd.Env == nil {
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cmd.Dir = "/"
	prepareCmd(cmd, c.cred) // own process group, credentials, group kill on cancel
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil && (err != nil || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return fail(start, errReason(ctx.Err())) // "timeout" (or "canceled")
	}
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fail(start, fmt.Sprintf("exec: %v", err))
		}
		code = ee.ExitCode()
		if code < 0 {
			return fail(start, ee.String()) // "signal: killed"
		}
	}
	return exitResult(start, code, c.cfg.Dynamic)
}

// exitResult maps an exit code to a Result (keepalived misc_dynamic rules
// when dynamic).
func exitResult(start time.Time, code int, dynamic bool) Result {
	switch {
	case code == 0:
		return ok(start)
	case dynamic && code >= 2 && code <= 255:
		r := ok(start)
		w := code - 2
		r.Weight = &w
		return r
	}
	return fail(start, "exit "+strconv.Itoa(code))
}
