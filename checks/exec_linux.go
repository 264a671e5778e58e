package checks

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// credential is a resolved script_user.
type credential struct {
	uid, gid uint32
	groups   []uint32
}

// lookupCredential resolves "user" or "user:group".
func lookupCredential(spec string) (*credential, error) {
	name, group, _ := strings.Cut(spec, ":")
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("lookup user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid %q: %w", u.Uid, err)
	}
	gidStr := u.Gid
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("lookup group: %w", err)
		}
		gidStr = g.Gid
	}
	gid, err := strconv.ParseUint(gidStr, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid %q: %w", gidStr, err)
	}
	c := &credential{uid: uint32(uid), gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				c.groups = append(c.groups, uint32(g))
			}
		}
	}
	return c, nil
}

// prepareCmd puts the command in its own process group, so a timeout kills
// the script and everything it started, and drops to the script user.
func prepareCmd(cmd *exec.Cmd, cred *credential) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cred != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid, Groups: cred.groups}
	}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// Negative pid: the whole group (pgid == pid after Setpgid).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// secure implements enable_script_security for the script (the command's
// first word): the file must not be writable by group or others, must be
// owned by root or the script user, and no directory on its path may be
// writable by others (unless sticky, like /tmp, where others cannot
// replace entries they do not own) or owned by a user other than root or
// the script user.
func (c *ExecChecker) secure() error {
	allowed := func(uid uint32) bool { return uid == 0 || (c.cred != nil && uid == c.cred.uid) }
	fi, err := os.Stat(c.script)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("script %s %w", c.script, ErrScriptMissing)
		}
		return fmt.Errorf("script %s: %w", c.script, err)
	}
	st, isUnix := fi.Sys().(*syscall.Stat_t)
	if !isUnix {
		return fmt.Errorf("script %s: no owner information: %w", c.script, ErrScriptInsecure)
	}
	mode := fi.Mode().Perm()
	switch {
	case mode&0o002 != 0:
		return fmt.Errorf("script %s is writable by others: %w", c.script, ErrScriptInsecure)
	case mode&0o020 != 0:
		return fmt.Errorf("script %s is writable by group: %w", c.script, ErrScriptInsecure)
	case !allowed(st.Uid):
		return fmt.Errorf("script %s is owned by uid %d, not root or the script user: %w", c.script, st.Uid, ErrScriptInsecure)
	}
	// Walk the resolved path: a symlink's target is what runs.
	real, err := filepath.EvalSymlinks(c.script)
	if err != nil {
		return fmt.Errorf("script %s: %w", c.script, err)
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("script %s: directory %s: %w", c.script, dir, err)
		}
		dst, _ := di.Sys().(*syscall.Stat_t)
		dmode := di.Mode()
		if dmode.Perm()&0o002 != 0 && dmode&os.ModeSticky == 0 {
			return fmt.Errorf("script %s is in directory %s writable by others: %w", c.script, dir, ErrScriptInsecure)
		}
		if dst != nil && !allowed(dst.Uid) {
			return fmt.Errorf("script %s is in directory %s owned by uid %d: %w", c.script, dir, dst.Uid, ErrScriptInsecure)
		}
		if dir == "/" || dir == "." {
			return nil
		}
	}
}
