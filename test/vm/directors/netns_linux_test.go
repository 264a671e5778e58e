//go:build linux

package directors

import (
	"os"
	"testing"
)

// requireVM skips unless the test runs as root inside the kernel VM: it
// starts vipd processes that program IPVS and move addresses, which only
// the VM's kernel (IP_VS) and throw-away network stack allow.
func requireVM(t *testing.T) {
	t.Helper()
	if os.Getenv("VIPD_IN_VM") != "1" {
		t.Skip("skip: director-pair tests run only in the kernel VM: test/vm/run-director-tests.sh")
	}
	if os.Geteuid() != 0 {
		t.Skip("skip: director-pair tests need root")
	}
}
