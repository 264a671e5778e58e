//go:build !linux

package checks

import (
	"errors"
	"os/exec"
)

type credential struct{}

var errUnsupported = errors.New("exec check: script_user and script security need linux")

func lookupCredential(string) (*credential, error) { return nil, errUnsupported }

func prepareCmd(*exec.Cmd, *credential) {}

func (c *ExecChecker) secure() error { return errUnsupported }
