package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/vipd/vipd/providers"
)

// holder returns the ENI that holds ip as a secondary private address ("":
// none).
func (p *Provider) holder(ctx context.Context, ip string) (string, error) {
	req := ecs.CreateDescribeNetworkInterfacesRequest()
	req.PrivateIpAddress = &[]string{ip}
	var resp *ecs.DescribeNetworkInterfacesResponse
	err := p.call(ctx, "DescribeNetworkInterfaces", func() (err error) {
		resp, err = p.ecs.DescribeNetworkInterfaces(req)
		return err
	})
	if err != nil {
		return "", err
	}
	for _, n := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
		for _, s := range n.PrivateIpSets.PrivateIpSet {
			if s.PrivateIpAddress == ip {
				return n.NetworkInterfaceId, nil
			}
		}
	}
	return "", nil
}

// acquireSecondary moves the address: unassign from the holder (there is no
// reassign flag on Aliyun), then assign to our ENI. A retry after a partial
// attempt finds no holder and only assigns.
func (p *Provider) acquireSecondary(ctx context.Context, vip providers.VIP) error {
	ours, err := p.eni(ctx)
	if err != nil {
		return err
	}
	ip := vip.Prefix.Addr().String()
	h, err := p.holder(ctx, ip)
	if err != nil {
		return err
	}
	if h == ours {
		return nil // already here: no write
	}
	if h != "" {
		if p.opts.PeerENIID != "" && h != p.opts.PeerENIID {
			p.log.Warn("vip held by an unexpected eni", "vip", ip, "peer", h, "reason", "peer_eni_id is "+p.opts.PeerENIID)
		}
		un := ecs.CreateUnassignPrivateIpAddressesRequest()
		un.NetworkInterfaceId, un.PrivateIpAddress = h, &[]string{ip}
		err := p.write.Do(ctx, "UnassignPrivateIpAddresses", []any{"eni", h, "vip", ip}, func(ctx context.Context) error {
			return p.call(ctx, "UnassignPrivateIpAddresses", func() error { _, err := p.ecs.UnassignPrivateIpAddresses(un); return err })
		})
		if err != nil {
			return err
		}
	}
	as := ecs.CreateAssignPrivateIpAddressesRequest()
	as.NetworkInterfaceId, as.PrivateIpAddress = ours, &[]string{ip}
	return p.write.Do(ctx, "AssignPrivateIpAddresses", []any{"eni", ours, "vip", ip}, func(ctx context.Context) error {
		return p.call(ctx, "AssignPrivateIpAddresses", func() error { _, err := p.ecs.AssignPrivateIpAddresses(as); return err })
	})
}

// verifySecondary: our ENI holds the address.
func (p *Provider) verifySecondary(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	ours, err := p.eni(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	h, err := p.holder(ctx, vip.Prefix.Addr().String())
	if err != nil {
		return providers.Ownership{}, err
	}
	o := providers.Ownership{Here: h == ours, Owner: h, Detail: "secondary ip on " + h}
	if h == "" {
		o.Detail = "secondary ip not assigned to any eni"
	}
	return o, nil
}
