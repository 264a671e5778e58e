//go:build linux

package lvs

import (
	"os"
	"testing"
)

// requireKernel skips unless the test can program a real IPVS table: root
// and either inside the test VM (VIPD_IN_VM=1) or a kernel with IP_VS.
func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skip: kernel IPVS tests need root")
	}
	if os.Getenv("VIPD_IN_VM") != "1" {
		if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
			t.Skip("skip: this kernel has no IP_VS; run them in the VM: test/vm/run-lvs-tests.sh")
		}
	}
}
