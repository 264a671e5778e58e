package providers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"
)

func TestConfirm(t *testing.T) {
	vip := VIP{Prefix: netip.MustParsePrefix("192.0.2.1/32")}
	c := Confirm{Polls: 3, Interval: time.Millisecond}
	tests := []struct {
		name      string
		dryRun    bool
		hereAfter int // Verify answers Here from this poll on (0: never)
		wantPolls int
		wantCode  string
	}{
		{"confirmed at the second poll", false, 2, 2, ""},
		{"never confirmed", false, 0, 3, "NotConfirmed"},
		{"dry-run: no write, no poll", true, 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Writer{DryRun: tt.dryRun, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			polls := 0
			md := c.Wrap("x", "Write", Mode{
				Acquire: func(ctx context.Context, _ VIP) error {
					return w.Do(ctx, "Write", nil, func(context.Context) error { return nil })
				},
				Verify: func(context.Context, VIP) (Ownership, error) {
					polls++
					return Ownership{Here: tt.hereAfter > 0 && polls >= tt.hereAfter}, nil
				},
			})
			err := md.Acquire(context.Background(), vip)
			var ce *CallError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("Acquire = %v, want nil", err)
			case tt.wantCode != "" && (!errors.As(err, &ce) || ce.Code != tt.wantCode || !ce.Retryable):
				t.Fatalf("Acquire = %v, want a retryable %s", err, tt.wantCode)
			}
			if polls != tt.wantPolls {
				t.Errorf("%d polls, want %d", polls, tt.wantPolls)
			}
		})
	}
}
