package agent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aliyun"
	"github.com/vipd/vipd/providers/aws"
	"github.com/vipd/vipd/providers/netlink"
	"github.com/vipd/vipd/providers/tencent"
)

// providerSet builds the providers of every instance and closes them at the end.
type providerSet struct {
	log     *slog.Logger
	closers []func() error
}

func newProviderSet(log *slog.Logger) *providerSet { return &providerSet{log: log} }

func (ps *providerSet) close() {
	for _, c := range ps.closers {
		_ = c()
	}
}

// forInstance returns the instance's local provider (netlink: the address on
// the NIC plus GARP/NA; nil with no_local_address) and its cloud provider
// (nil on-prem).
func (ps *providerSet) forInstance(ctx context.Context, c configs.Instance) (local, cloud providers.Provider, err error) {
	p := c.Provider
	log := ps.log.With("instance", c.Name)
	switch p.Type {
	case "", configs.ProviderNetlink:
	case configs.ProviderAWS:
		cloud, err = aws.New(ctx, aws.Options{
			Mode: aws.Mode(p.Mode), Region: p.Region, InstanceID: p.InstanceID, ENIID: p.ENIID,
			Interface: c.Interface, RouteTableIDs: p.RouteTableIDs, AllocationID: p.AllocationID,
			PrivateIP: p.PrivateIP, AssumeRoleARN: p.AssumeRoleARN, STSEndpoint: p.STSEndpoint,
			Endpoint: p.Endpoint, MetadataEndpoint: p.MetadataEndpoint,
			DryRun: p.DryRun, NoLocalAddress: p.NoLocalAddress,
		}, log)
	case configs.ProviderAliyun:
		cloud, err = aliyun.New(ctx, aliyun.Options{
			Mode: p.Mode, Region: p.Region, InstanceID: p.InstanceID, ENIID: p.ENIID, HaVipID: p.HaVipID,
			RouteTableIDs: p.RouteTableIDs, PeerENIID: p.PeerENIID, ManageAssociation: p.ManageAssociation,
			Endpoint: p.Endpoint, MetadataEndpoint: p.MetadataEndpoint, DryRun: p.DryRun, NoLocalAddress: p.NoLocalAddress,
		}, log)
	case configs.ProviderTencent:
		cloud, err = tencent.New(ctx, tencent.Options{
			Mode: p.Mode, Region: p.Region, InstanceID: p.InstanceID, ENIID: p.ENIID, HaVipID: p.HaVipID,
			RouteTableIDs: p.RouteTableIDs, SubnetID: p.SubnetID, ManageAssociation: p.ManageAssociation,
			Endpoint: p.Endpoint, MetadataEndpoint: p.MetadataEndpoint, DryRun: p.DryRun, NoLocalAddress: p.NoLocalAddress,
		}, log)
	default:
		return nil, nil, fmt.Errorf("provider type %q is not known", p.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("provider %s: %w", p.Type, err)
	}
	if cloud == nil || !p.NoLocalAddress {
		nl := netlink.New(netlink.Options{GARPCount: c.GARP.Count, GARPInterval: c.GARP.Interval}, log)
		ps.closers = append(ps.closers, nl.Close)
		local = nl
	}
	return local, cloud, nil
}
