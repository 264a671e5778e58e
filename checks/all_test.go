package checks

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// constChecker returns a fixed result and counts calls.
type constChecker struct {
	name  string
	r     Result
	calls *int
}

func (c constChecker) Check(context.Context) Result { *c.calls++; return c.r }
func (c constChecker) String() string               { return c.name }

func TestAll(t *testing.T) {
	tests := []struct {
		name      string
		results   []Result
		want      Result
		wantCalls []int
	}{
		{"all ok", []Result{{OK: true}, {OK: true}}, Result{OK: true}, []int{1, 1}},
		{"first fails, second not run", []Result{{Reason: "timeout"}, {OK: true}}, Result{Reason: "c0: timeout"}, []int{1, 0}},
		{"second fails", []Result{{OK: true}, {Reason: "status 503"}}, Result{Reason: "c1: status 503"}, []int{1, 1}},
		{"weight kept", []Result{{OK: true, Weight: intp(3)}, {OK: true}}, Result{OK: true, Weight: intp(3)}, []int{1, 1}},
		{"empty passes", nil, Result{OK: true}, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]int, len(tt.results))
			var a All
			for i, r := range tt.results {
				a = append(a, constChecker{name: "c" + string(rune('0'+i)), r: r, calls: &calls[i]})
			}
			got := a.Check(context.Background())
			got.Duration = 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
	if got, want := (All{constChecker{name: "a"}, constChecker{name: "b"}}).String(), "all(a, b)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
