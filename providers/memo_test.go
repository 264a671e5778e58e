package providers

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMemo(t *testing.T) {
	errDown := errors.New("metadata down")
	tests := []struct {
		name    string
		set     string   // configured value
		answers []string // what successive lookups return ("!" fails)
		want    []string // what successive Gets return ("!" an error)
		lookups int
	}{
		{name: "configured: never looks up", set: "i-conf", answers: nil, want: []string{"i-conf", "i-conf"}, lookups: 0},
		{name: "looked up once, then kept", answers: []string{"i-1", "i-2"}, want: []string{"i-1", "i-1", "i-1"}, lookups: 1},
		{name: "a failure is not kept", answers: []string{"!", "i-1", "i-2"}, want: []string{"!", "i-1", "i-1"}, lookups: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Memo
			m.Set(tt.set)
			n := 0
			lookup := func(context.Context) (string, error) {
				a := tt.answers[n]
				n++
				if a == "!" {
					return "", errDown
				}
				return a, nil
			}
			var got []string
			for range tt.want {
				v, err := m.Get(context.Background(), lookup)
				if err != nil {
					if !errors.Is(err, errDown) || v != "" {
						t.Fatalf("Get = %q, %v; want the lookup's error", v, err)
					}
					v = "!"
				}
				got = append(got, v)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Get answers (-want +got):\n%s", diff)
			}
			if n != tt.lookups {
				t.Errorf("%d lookups, want %d", n, tt.lookups)
			}
		})
	}
}

func TestMemoConcurrent(t *testing.T) {
	var m Memo
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.Get(context.Background(), func(context.Context) (string, error) { return "eni-1", nil })
			if err != nil || v != "eni-1" {
				t.Errorf("Get = %q, %v", v, err)
			}
		}()
	}
	wg.Wait()
}
