// Package awsopts holds the aws provider's options without the AWS SDK, so
// that the configuration can be read and validated by a build that leaves
// the SDK out (build tag novipd_aws). The provider (package aws) re-exports
// them.
package awsopts

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/vipd/vipd/providers"
)

// Mode selects how the VIP is moved.
type Mode string

// The modes of the aws provider.
const (
	ModeSecondaryIP Mode = "secondary-ip"
	ModeRouteTable  Mode = "route-table"
	ModeEIP         Mode = "eip"
)

// Options configure a Provider. Zero values are discovered (IMDSv2) or
// defaulted.
type Options struct {
	Mode Mode
	// Region, InstanceID, ENIID: from IMDSv2 when empty (Region first from
	// the SDK's usual sources: AWS_REGION, shared config).
	Region     string
	InstanceID string
	ENIID      string
	// Interface is the local interface carrying the VIP: when ENIID is empty
	// its MAC selects the ENI in IMDS; empty means the primary ENI.
	Interface string
	// RouteTableIDs: route-table mode, every table to point VIP/32 here.
	RouteTableIDs []string
	// AllocationID: eip mode, the Elastic IP to associate.
	AllocationID string
	// PrivateIP: eip mode, the private address of the ENI the Elastic IP maps
	// to; invalid (zero) means the ENI's primary address.
	PrivateIP netip.Addr
	// AssumeRoleARN: optional role assumed (STS AssumeRole) with the default
	// credentials.
	AssumeRoleARN string
	// Endpoint overrides the EC2 endpoint (tests, VPC endpoints);
	// STSEndpoint the STS endpoint used for AssumeRoleARN;
	// MetadataEndpoint the IMDS endpoint (also used by the instance-role
	// credential provider).
	Endpoint         string
	STSEndpoint      string
	MetadataEndpoint string
	// DryRun logs the write calls instead of making them.
	DryRun bool
	// NoLocalAddress records that the agent does not put the VIP on the NIC
	// (route-table and eip modes); the provider itself never touches it.
	NoLocalAddress bool
	// HTTPClient replaces the SDK's HTTP client (nil: SDK default).
	HTTPClient *http.Client
	// Confirm bounds how long secondary-ip Acquire polls for its
	// asynchronous remap before the next attempt re-issues it (zero:
	// providers.Confirm defaults).
	Confirm providers.Confirm
}

// Validate reports the first configuration error.
func (o Options) Validate() error {
	switch o.Mode {
	case ModeSecondaryIP, ModeEIP:
	case ModeRouteTable:
		if len(o.RouteTableIDs) == 0 {
			return errors.New("aws: route-table mode needs route_table_ids")
		}
	default:
		return fmt.Errorf("aws: unknown mode %q (want secondary-ip, route-table or eip)", o.Mode)
	}
	if o.Mode == ModeEIP && o.AllocationID == "" {
		return errors.New("aws: eip mode needs allocation_id")
	}
	if o.Mode != ModeEIP && o.AllocationID != "" {
		return fmt.Errorf("aws: allocation_id is only used in eip mode, not %s", o.Mode)
	}
	if o.PrivateIP.IsValid() && !o.PrivateIP.Is4() {
		return fmt.Errorf("aws: private ip %s is not IPv4", o.PrivateIP)
	}
	return nil
}
