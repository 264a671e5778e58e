//go:build !linux

package lvs

import (
	"context"
	"errors"
	"time"
)

// ErrUnsupported is returned by the IPVS functions on systems other than
// Linux.
var ErrUnsupported = errors.New("lvs: IPVS needs Linux")

// Reconciler is the Linux IPVS reconciler; elsewhere it cannot be built.
type Reconciler struct{}

// NewKernelReconciler returns ErrUnsupported outside Linux.
func NewKernelReconciler(string, Config) (*Reconciler, error) { return nil, ErrUnsupported }

// Reconcile returns ErrUnsupported.
func (*Reconciler) Reconcile(context.Context, []ServiceState) error { return ErrUnsupported }

// SetActive returns ErrUnsupported.
func (*Reconciler) SetActive(context.Context, string, bool) error { return ErrUnsupported }

// Resync returns ErrUnsupported.
func (*Reconciler) Resync(context.Context) error { return ErrUnsupported }

// RemoveOwned is not supported outside Linux.
func (*Reconciler) RemoveOwned(context.Context, ...ServiceKey) error { return ErrUnsupported }

// FlushAll is not supported outside Linux.
func (*Reconciler) FlushAll(context.Context) error { return ErrUnsupported }

// Flush returns ErrUnsupported.
func (*Reconciler) Flush(context.Context) error { return ErrUnsupported }

// Run returns ErrUnsupported.
func (*Reconciler) Run(context.Context, time.Duration) error { return ErrUnsupported }

// Status returns ErrUnsupported.
func (*Reconciler) Status(context.Context) ([]ServiceStatus, error) { return nil, ErrUnsupported }

// Metrics returns empty counters.
func (*Reconciler) Metrics() *Metrics { return &Metrics{} }

// Close does nothing.
func (*Reconciler) Close() {}
