//go:build linux

package lvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// IPVS generic netlink commands and attributes for the connection
// synchronization daemon (include/uapi/linux/ip_vs.h). moby/ipvs does not
// expose them.
const (
	ipvsGenlName    = "IPVS"
	ipvsGenlVersion = 1

	cmdNewDaemon = 9  // IPVS_CMD_NEW_DAEMON
	cmdDelDaemon = 10 // IPVS_CMD_DEL_DAEMON
	cmdGetDaemon = 11 // IPVS_CMD_GET_DAEMON

	cmdAttrDaemon = 3 // IPVS_CMD_ATTR_DAEMON (nested)

	daemonAttrState       = 1 // u32: IP_VS_STATE_MASTER / IP_VS_STATE_BACKUP
	daemonAttrMcastIfn    = 2 // string: interface name
	daemonAttrSyncID      = 3 // u32 (0–255)
	daemonAttrSyncMaxLen  = 4 // u16
	daemonAttrMcastGroup  = 5 // in_addr
	daemonAttrMcastGroup6 = 6 // in6_addr
	daemonAttrMcastPort   = 7 // u16, host order
	daemonAttrMcastTTL    = 8 // u8

	ifNameMax = 16 // IP_VS_IFNAME_MAXLEN
)

// SyncConn talks to the kernel's IPVS sync daemons of one network
// namespace through generic netlink. Master sends the connection table as
// multicast on its interface; backup receives it into its own table, so
// connections survive a director failover.
type SyncConn struct {
	c      *genetlink.Conn
	family uint16
}

// OpenSync opens the IPVS generic netlink family in the network namespace
// of the file descriptor netnsFD (0: the current one).
func OpenSync(netnsFD int) (*SyncConn, error) {
	c, err := genetlink.Dial(&netlink.Config{NetNS: netnsFD})
	if err != nil {
		return nil, fmt.Errorf("lvs: sync daemon: dial generic netlink: %w", err)
	}
	f, err := c.GetFamily(ipvsGenlName)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("lvs: sync daemon: family %s (is ip_vs loaded?): %w", ipvsGenlName, err)
	}
	return &SyncConn{c: c, family: f.ID}, nil
}

// Close releases the socket; running daemons keep running in the kernel.
func (s *SyncConn) Close() error { return s.c.Close() }

func (s *SyncConn) execute(ctx context.Context, cmd uint8, flags netlink.HeaderFlags, data []byte) ([]genetlink.Message, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	if err := s.c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = s.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	msgs, err := s.c.Execute(genetlink.Message{Header: genetlink.Header{Command: cmd, Version: ipvsGenlVersion}, Data: data}, s.family, flags)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return msgs, err
}

func daemonAttrs(fn func(ae *netlink.AttributeEncoder)) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(cmdAttrDaemon, func(nae *netlink.AttributeEncoder) error {
		fn(nae)
		return nil
	})
	return ae.Encode()
}

// StartSyncDaemon starts the kernel's sync daemon in the given role on
// iface with syncID (keepalived lvs_sync_daemon). Starting a daemon that
// already runs with the same interface and sync id is not an error.
func (s *SyncConn) StartSyncDaemon(ctx context.Context, state SyncState, iface string, syncID uint8) error {
	if state != SyncMaster && state != SyncBackup {
		return fmt.Errorf("lvs: start sync daemon: bad state %d", state)
	}
	if iface == "" || len(iface) >= ifNameMax {
		return fmt.Errorf("lvs: start %v sync daemon: bad interface name %q", state, iface)
	}
	b, err := daemonAttrs(func(ae *netlink.AttributeEncoder) {
		ae.Uint32(daemonAttrState, uint32(state))
		ae.String(daemonAttrMcastIfn, iface)
		ae.Uint32(daemonAttrSyncID, uint32(syncID))
	})
	if err != nil {
		return fmt.Errorf("lvs: start %v sync daemon: %w", state, err)
	}
	_, err = s.execute(ctx, cmdNewDaemon, netlink.Request|netlink.Acknowledge, b)
	if errors.Is(err, unix.EEXIST) {
		running, lerr := s.SyncDaemons(ctx)
		if lerr == nil {
			for _, d := range running {
				if d.State == state && d.Interface == iface && d.SyncID == syncID {
					return nil
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("lvs: start %v sync daemon on %s: %w", state, iface, err)
	}
	return nil
}

// stopAckWait bounds the wait for the kernel's answer to a stop: when the
// daemon's thread had not run yet, the kernel stops it but answers nothing
// (kthread_stop returns -EINTR, and netlink sends no ack for that), so the
// outcome is then read from the daemon list instead.
const stopAckWait = 2 * time.Second

// StopSyncDaemon stops the daemon of that role; stopping one that does not
// run is not an error.
func (s *SyncConn) StopSyncDaemon(ctx context.Context, state SyncState) error {
	b, err := daemonAttrs(func(ae *netlink.AttributeEncoder) { ae.Uint32(daemonAttrState, uint32(state)) })
	if err != nil {
		return fmt.Errorf("lvs: stop %v sync daemon: %w", state, err)
	}
	actx, cancel := context.WithTimeout(ctx, stopAckWait)
	_, err = s.execute(actx, cmdDelDaemon, netlink.Request|netlink.Acknowledge, b)
	cancel()
	if err == nil || errors.Is(err, unix.ESRCH) {
		return nil
	}
	if ctx.Err() == nil {
		if running, lerr := s.SyncDaemons(ctx); lerr == nil && !slices.ContainsFunc(running, func(d SyncDaemon) bool { return d.State == state }) {
			return nil // stopped, unacknowledged
		}
	}
	return fmt.Errorf("lvs: stop %v sync daemon: %w", state, err)
}

// SwitchSyncDaemon makes state the only running role: the agent calls it on
// VRRP transitions (master on MASTER, backup otherwise).
func (s *SyncConn) SwitchSyncDaemon(ctx context.Context, state SyncState, iface string, syncID uint8) error {
	other := SyncBackup
	if state == SyncBackup {
		other = SyncMaster
	}
	if err := s.StopSyncDaemon(ctx, other); err != nil {
		return err
	}
	return s.StartSyncDaemon(ctx, state, iface, syncID)
}

// SyncDaemons lists the running sync daemons.
func (s *SyncConn) SyncDaemons(ctx context.Context) ([]SyncDaemon, error) {
	msgs, err := s.execute(ctx, cmdGetDaemon, netlink.Request|netlink.Dump, nil)
	if err != nil {
		return nil, fmt.Errorf("lvs: list sync daemons: %w", err)
	}
	var out []SyncDaemon
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return nil, fmt.Errorf("lvs: list sync daemons: %w", err)
		}
		for ad.Next() {
			if ad.Type() != cmdAttrDaemon {
				continue
			}
			var d SyncDaemon
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case daemonAttrState:
						d.State = SyncState(nad.Uint32())
					case daemonAttrMcastIfn:
						d.Interface = nad.String()
					case daemonAttrSyncID:
						d.SyncID = uint8(nad.Uint32())
					case daemonAttrSyncMaxLen:
						d.MaxLen = nad.Uint16()
					case daemonAttrMcastGroup, daemonAttrMcastGroup6:
						if a, ok := netip.AddrFromSlice(nad.Bytes()); ok {
							d.McastGroup = a
						}
					case daemonAttrMcastPort:
						d.McastPort = nad.Uint16()
					case daemonAttrMcastTTL:
						d.McastTTL = nad.Uint8()
					}
				}
				return nil
			})
			out = append(out, d)
		}
		if err := ad.Err(); err != nil {
			return nil, fmt.Errorf("lvs: list sync daemons: %w", err)
		}
	}
	return out, nil
}
