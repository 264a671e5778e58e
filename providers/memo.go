package providers

import (
	"context"
	"sync"
)

// Memo is a value a provider looks up once and then keeps (its instance id,
// its ENI id): configured, or read from instance metadata or the cloud on
// first use.
//
// Get calls lookup only while nothing is kept. A failed lookup keeps nothing,
// so the next Get tries again. The lock is not held during lookup:
// concurrent first calls may each look up, and the last answer is kept.
// The zero Memo keeps nothing; a Memo must not be copied after first use.
type Memo struct {
	mu sync.Mutex
	v  string
}

// Set keeps v ("" keeps nothing).
func (m *Memo) Set(v string) {
	m.mu.Lock()
	m.v = v
	m.mu.Unlock()
}

// Get returns the kept value, or looks it up and keeps it.
func (m *Memo) Get(ctx context.Context, lookup func(ctx context.Context) (string, error)) (string, error) {
	m.mu.Lock()
	v := m.v
	m.mu.Unlock()
	if v != "" {
		return v, nil
	}
	v, err := lookup(ctx)
	if err != nil {
		return "", err
	}
	m.Set(v)
	return v, nil
}
