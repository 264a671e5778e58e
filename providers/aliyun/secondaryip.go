package aliyun

import (
	"context"
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/vipd/vipd/providers"
)

// network returns our ENI's VPC and vSwitch, read once and kept.
func (p *Provider) network(ctx context.Context) (vpcID, vswitchID string, err error) {
	ours, err := p.eni(ctx)
	if err != nil {
		return "", "", err
	}
	v, err := p.eniNet.Get(ctx, func(ctx context.Context) (string, error) {
		req := ecs.CreateDescribeNetworkInterfacesRequest()
		req.NetworkInterfaceId = &[]string{ours}
		var resp *ecs.DescribeNetworkInterfacesResponse
		err := p.call(ctx, "DescribeNetworkInterfaces", func() (err error) {
			resp, err = p.ecs.DescribeNetworkInterfaces(req)
			return err
		})
		if err != nil {
			return "", err
		}
		for _, n := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
			if n.NetworkInterfaceId == ours && n.VpcId != "" && n.VSwitchId != "" {
				return n.VpcId + "/" + n.VSwitchId, nil
			}
		}
		return "", fmt.Errorf("aliyun: eni %s not found or without vpc/vswitch (request_id=%s)", ours, resp.RequestId)
	})
	if err != nil {
		return "", "", err
	}
	vpcID, vswitchID, _ = strings.Cut(v, "/")
	return vpcID, vswitchID, nil
}

// pageSize is MaxResults of paged DescribeNetworkInterfaces calls.
const pageSize = 100

// maxPages bounds one paged lookup.
const maxPages = 50

// holder returns the ENI of our vSwitch that holds ip as a secondary
// private address ("": none). The lookup is scoped (VpcId, VSwitchId: a
// private address is unique within a VPC only, and a secondary address must
// lie in its ENI's vSwitch) and paged (MaxResults/NextToken).
func (p *Provider) holder(ctx context.Context, ip string) (string, error) {
	vpcID, vsw, err := p.network(ctx)
	if err != nil {
		return "", err
	}
	token := ""
	for page := 0; page < maxPages; page++ {
		req := ecs.CreateDescribeNetworkInterfacesRequest()
		req.PrivateIpAddress = &[]string{ip}
		req.VpcId, req.VSwitchId = vpcID, vsw
		req.MaxResults = requests.NewInteger(pageSize)
		req.NextToken = token
		var resp *ecs.DescribeNetworkInterfacesResponse
		err := p.call(ctx, "DescribeNetworkInterfaces", func() (err error) {
			resp, err = p.ecs.DescribeNetworkInterfaces(req)
			return err
		})
		if err != nil {
			return "", err
		}
		for _, n := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
			if n.VpcId != "" && n.VpcId != vpcID {
				continue
			}
			for _, s := range n.PrivateIpSets.PrivateIpSet {
				if s.PrivateIpAddress == ip {
					return n.NetworkInterfaceId, nil
				}
			}
		}
		if token = resp.NextToken; token == "" {
			return "", nil
		}
	}
	return "", fmt.Errorf("aliyun: DescribeNetworkInterfaces: more than %d pages", maxPages)
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
			// peer_eni_id names the only ENI vipd takes the address from.
			return fmt.Errorf("aliyun: %s is held by %s, not by peer_eni_id %s: not unassigning it (fix peer_eni_id or move the address by hand)", ip, h, p.opts.PeerENIID)
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
