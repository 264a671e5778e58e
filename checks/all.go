package checks

import (
	"context"
	"strings"
	"time"
)

// All is a Checker that passes when every one of its checkers passes
// (a real server with several checks, as in keepalived). They run in
// order under the same ctx; the first failure is returned with its reason
// prefixed by the failing checker. The last non-nil Weight wins.
type All []Checker

var _ Checker = All(nil)

func (a All) String() string {
	parts := make([]string, len(a))
	for i, c := range a {
		parts[i] = c.String()
	}
	return "all(" + strings.Join(parts, ", ") + ")"
}

// Check runs the checkers in order and stops at the first failure.
func (a All) Check(ctx context.Context) Result {
	start := time.Now()
	var w *int
	for _, c := range a {
		r := c.Check(ctx)
		if !r.OK {
			r.Reason = c.String() + ": " + r.Reason
			r.Duration = time.Since(start)
			return r
		}
		if r.Weight != nil {
			w = r.Weight
		}
	}
	r := ok(start)
	r.Weight = w
	return r
}
