//go:build onprem

package agent

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/vipd/vipd/providers/aliyun/aliyunopts"
	"github.com/vipd/vipd/providers/aws/awsopts"
	"github.com/vipd/vipd/providers/tencent/tencentopts"
)

// An onprem build refuses each cloud provider with a clear error
// (go test -tags onprem ./cmd/vipd/internal/agent/).
func TestCloudProvidersLeftOut(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for name, build := range map[string]func() error{
		"aws":     func() error { _, err := newAWS(t.Context(), awsopts.Options{}, log); return err },
		"aliyun":  func() error { _, err := newAliyun(t.Context(), aliyunopts.Options{}, log); return err },
		"tencent": func() error { _, err := newTencent(t.Context(), tencentopts.Options{}, log); return err },
	} {
		err := build()
		if err == nil || !strings.Contains(err.Error(), "built without "+name) {
			t.Errorf("%s: err = %v, want %q", name, err, "built without "+name)
		}
	}
}
