package agent

import "testing"

func TestTrackEffect(t *testing.T) {
	for _, tt := range []struct {
		w         int
		up        bool
		delta     int
		wantFault bool
	}{
		{0, true, 0, false}, {0, false, 0, true},
		{10, true, 10, false}, {10, false, 0, false},
		{-20, true, 0, false}, {-20, false, -20, false},
	} {
		d, f := trackEffect(tt.w, tt.up)
		if d != tt.delta || f != tt.wantFault {
			t.Errorf("trackEffect(%d, %v) = %d, %v; want %d, %v", tt.w, tt.up, d, f, tt.delta, tt.wantFault)
		}
	}
}
