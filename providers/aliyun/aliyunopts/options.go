// Package aliyunopts holds the aliyun provider's options without the
// Alibaba Cloud SDK, so that the configuration can be read and validated by
// a build that leaves the SDK out (build tag novipd_aliyun). The provider
// (package aliyun) re-exports them.
package aliyunopts

import (
	"errors"
	"fmt"

	"github.com/vipd/vipd/providers"
)

// Modes of the aliyun provider.
const (
	ModeHaVip       = "havip"
	ModeRouteEntry  = "route-entry"
	ModeSecondaryIP = "secondary-ip"
)

// DefaultMetadataEndpoint is the ECS instance metadata root.
const DefaultMetadataEndpoint = "http://100.100.100.200/latest/meta-data/"

// Options is the provider sub-config of an instance (configs schema
// "provider:" with type aliyun).
type Options struct {
	Mode              string   // havip | route-entry | secondary-ip
	Region            string   // default: metadata region-id
	InstanceID        string   // default: metadata instance-id
	ENIID             string   // secondary-ip: our ENI; default: metadata (primary NIC)
	HaVipID           string   // havip
	RouteTableIDs     []string // route-entry: the first is used
	PeerENIID         string   // secondary-ip: the peer's ENI (fallback holder)
	ManageAssociation bool     // havip: AssociateHaVip when not associated
	Endpoint          string   // VPC API endpoint override ("http://host:port" or host), and ECS's unless ECSEndpoint is set
	ECSEndpoint       string   // ECS API endpoint override (secondary-ip), e.g. ecs-vpc.cn-hangzhou.aliyuncs.com
	MetadataEndpoint  string   // default DefaultMetadataEndpoint
	Confirm           providers.Confirm
	DryRun            bool
	NoLocalAddress    bool
}

// Validate checks what each mode needs.
func (o Options) Validate() error {
	switch o.Mode {
	case ModeHaVip:
		if o.HaVipID == "" {
			return errors.New("aliyun: mode havip needs havip_id")
		}
		if o.NoLocalAddress {
			return errors.New("aliyun: mode havip needs the VIP on the NIC (the HAVIP follows its GARP): no_local_address is not allowed")
		}
	case ModeRouteEntry:
		if len(o.RouteTableIDs) == 0 {
			return errors.New("aliyun: mode route-entry needs route_table_ids")
		}
	case ModeSecondaryIP:
	default:
		return fmt.Errorf("aliyun: unknown mode %q (havip, route-entry, secondary-ip)", o.Mode)
	}
	return nil
}
