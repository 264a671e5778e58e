package lvs

import (
	"fmt"
	"net/netip"
)

// SyncState is the role of an IPVS connection synchronization daemon.
type SyncState uint32

// Sync daemon roles (IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP).
const (
	SyncMaster SyncState = 1
	SyncBackup SyncState = 2
)

func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("sync-state(%d)", uint32(s))
}

// SyncDaemon is one running sync daemon as the kernel reports it.
type SyncDaemon struct {
	State     SyncState
	Interface string
	SyncID    uint8
	// The rest are the kernel's defaults unless set by another tool.
	MaxLen     uint16
	McastGroup netip.Addr
	McastPort  uint16
	McastTTL   uint8
}
