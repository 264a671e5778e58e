package providers

import (
	"errors"
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	var v Verdict
	v.Provider = "aws/eip"
	v.Add("credentials", nil, "env")
	v.Skip("write X", "no dry run")
	if !v.OK() {
		t.Error("OK = false with only ok and skipped checks")
	}
	v.Add("read", errors.New("denied"), "")
	if v.OK() {
		t.Error("OK = true with a failed check")
	}
	s := v.String()
	for _, want := range []string{"aws/eip: NOT READY", "ok      credentials: env", "skipped write X: no dry run", "failed  read: denied"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}
