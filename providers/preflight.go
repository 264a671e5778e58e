package providers

import (
	"context"
	"fmt"
	"strings"
)

// Preflighter is implemented by the cloud providers: a go-live check that
// changes nothing (`vipd check --cloud`).
//
// Preflight verifies the credentials, the discovery of this node's identity
// (region, instance, ENI), that the VIPs can be read where the cloud keeps
// them, and — where the cloud has a dry run (EC2 DryRun=true:
// DryRunOperation means allowed, UnauthorizedOperation means not) — that the
// writes Acquire would make are allowed. It never writes. The error is for
// a ctx that ended; every failed check is in the Verdict.
type Preflighter interface {
	Preflight(ctx context.Context, vips ...VIP) (Verdict, error)
}

// CheckResult is the outcome of one preflight check.
type CheckResult string

// The outcomes of a check.
const (
	CheckOK      CheckResult = "ok"
	CheckFailed  CheckResult = "failed"
	CheckSkipped CheckResult = "skipped" // the cloud cannot tell without a write
)

// Check is one preflight check.
type Check struct {
	Name   string // "credentials", "identity", "read 192.0.2.10", "write AssignPrivateIpAddresses"
	Result CheckResult
	Detail string // what was found, or why it failed
}

// Verdict is a provider's preflight result.
type Verdict struct {
	Provider string // e.g. "aws/secondary-ip"
	Checks   []Check
}

// OK reports whether no check failed (skipped ones do not count).
func (v Verdict) OK() bool {
	for _, c := range v.Checks {
		if c.Result == CheckFailed {
			return false
		}
	}
	return true
}

// Add appends a check: ok when err is nil, failed otherwise (detail is then
// the error's text).
func (v *Verdict) Add(name string, err error, detail string) {
	c := Check{Name: name, Result: CheckOK, Detail: detail}
	if err != nil {
		c.Result, c.Detail = CheckFailed, err.Error()
	}
	v.Checks = append(v.Checks, c)
}

// Skip appends a skipped check and why.
func (v *Verdict) Skip(name, why string) {
	v.Checks = append(v.Checks, Check{Name: name, Result: CheckSkipped, Detail: why})
}

// String is the verdict as lines of text, one per check.
func (v Verdict) String() string {
	var b strings.Builder
	verdict := "ready"
	if !v.OK() {
		verdict = "NOT READY"
	}
	fmt.Fprintf(&b, "%s: %s\n", v.Provider, verdict)
	for _, c := range v.Checks {
		fmt.Fprintf(&b, "  %-7s %s: %s\n", c.Result, c.Name, c.Detail)
	}
	return b.String()
}
