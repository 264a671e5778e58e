// Package tencentopts holds the tencent provider's options without the
// Tencent Cloud SDK, so that the configuration can be read and validated by
// a build that leaves the SDK out (build tag novipd_tencent). The provider
// (package tencent) re-exports them.
package tencentopts

import (
	"errors"
	"fmt"
	"time"

	"github.com/vipd/vipd/providers"
)

// Modes of the tencent provider.
const (
	ModeHaVip     = "havip"
	ModePrivateIP = "private-ip"
	ModeRoute     = "route"
)

// DefaultMetadataEndpoint is the CVM instance metadata root.
const DefaultMetadataEndpoint = "http://metadata.tencentyun.com/latest/meta-data/"

// Options is the provider sub-config of an instance (configs schema
// "provider:" with type tencent).
type Options struct {
	Mode              string   // havip | private-ip | route
	Region            string   // default: metadata placement/region
	InstanceID        string   // default: metadata instance-id
	ENIID             string   // private-ip: our ENI (default: the primary ENI of instance_id); route: next hop is its primary IP
	HaVipID           string   // havip
	RouteTableIDs     []string // route: every table listed
	SubnetID          string   // private-ip: the holder's ENI must be in this subnet
	ManageAssociation bool     // havip: AssociateHaVipInstance when the drift range excludes us
	Endpoint          string   // API endpoint override ("http://host:port" or host)
	MetadataEndpoint  string   // default DefaultMetadataEndpoint
	DryRun            bool
	NoLocalAddress    bool

	// TaskPoll bounds the polling of an asynchronous task (zero: defaults).
	TaskPoll TaskPoll
	// Confirm bounds how long private-ip Acquire, after its task
	// succeeded, polls Verify before the next attempt re-issues the write.
	Confirm providers.Confirm
}

// TaskPoll is the bounded backoff used to poll DescribeVpcTaskResult.
type TaskPoll struct {
	Initial  time.Duration // first wait (default 100ms)
	Max      time.Duration // cap on one wait (default 2s)
	Attempts int           // polls before giving up (default 20, ~30s)
}

// WithDefaults fills the zero fields with the defaults.
func (t TaskPoll) WithDefaults() TaskPoll {
	if t.Initial <= 0 {
		t.Initial = 100 * time.Millisecond
	}
	if t.Max <= 0 {
		t.Max = 2 * time.Second
	}
	if t.Attempts <= 0 {
		t.Attempts = 20
	}
	return t
}

// Validate checks what each mode needs.
func (o Options) Validate() error {
	switch o.Mode {
	case ModeHaVip:
		if o.HaVipID == "" {
			return errors.New("tencent: mode havip needs havip_id")
		}
		if o.NoLocalAddress {
			return errors.New("tencent: mode havip needs the VIP on the NIC (the HAVIP follows its GARP): no_local_address is not allowed")
		}
	case ModePrivateIP:
	case ModeRoute:
		if len(o.RouteTableIDs) == 0 {
			return errors.New("tencent: mode route needs route_table_ids")
		}
	default:
		return fmt.Errorf("tencent: unknown mode %q (havip, private-ip, route)", o.Mode)
	}
	return nil
}
