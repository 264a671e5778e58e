//go:build !linux

package lvs

import "context"

// SyncConn is the Linux sync daemon control; elsewhere it cannot be opened.
type SyncConn struct{}

// OpenSync returns ErrUnsupported outside Linux.
func OpenSync(int) (*SyncConn, error) { return nil, ErrUnsupported }

// Close does nothing.
func (*SyncConn) Close() error { return nil }

// StartSyncDaemon returns ErrUnsupported.
func (*SyncConn) StartSyncDaemon(context.Context, SyncState, string, uint8) error {
	return ErrUnsupported
}

// StopSyncDaemon returns ErrUnsupported.
func (*SyncConn) StopSyncDaemon(context.Context, SyncState) error { return ErrUnsupported }

// SwitchSyncDaemon returns ErrUnsupported.
func (*SyncConn) SwitchSyncDaemon(context.Context, SyncState, string, uint8) error {
	return ErrUnsupported
}

// SyncDaemons returns ErrUnsupported.
func (*SyncConn) SyncDaemons(context.Context) ([]SyncDaemon, error) { return nil, ErrUnsupported }
