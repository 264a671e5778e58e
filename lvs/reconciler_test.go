//go:build linux

package lvs

import (
	"testing"

	"github.com/vipd/vipd/lvs/lvstest"
)

var _ ipvsHandle = (*lvstest.Fake)(nil)

func TestReconcileFake(t *testing.T) {
	runTable(t, func(t *testing.T) ipvsHandle { return lvstest.New() })
}
