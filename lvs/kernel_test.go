//go:build linux

package lvs

import (
	"testing"
)

// TestKernelReconcile runs the reconcile table against the kernel's IPVS,
// in a fresh network namespace per case.
func TestKernelReconcile(t *testing.T) {
	requireKernel(t)
	runTable(t, func(t *testing.T) ipvsHandle { return newNS(t, "vlvs-tbl").ipvs(t) })
}
