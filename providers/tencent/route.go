package tencent

import (
	"context"
	"fmt"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/vipd/vipd/providers"
)

// gatewayType is the next hop type of a route to a CVM: NORMAL_CVM, whose
// GatewayId is the CVM's private IP (the API resolves it to the instance).
// ("CVM" is the public-gateway CVM type, "HAVIP" routes to a HAVIP.)
const gatewayType = "NORMAL_CVM"

// nextHop returns the private IP routes must point at: the primary IP of
// eni_id when configured, else the instance's local-ipv4 from metadata.
func (p *Provider) nextHop(ctx context.Context) (string, error) {
	return p.nextHopIP.Get(ctx, func(ctx context.Context) (string, error) {
		if p.opts.ENIID == "" {
			ip, err := p.md.Get(ctx, "local-ipv4")
			if err != nil {
				return "", fmt.Errorf("tencent: next hop ip: %w", err)
			}
			return ip, nil
		}
		req := vpc.NewDescribeNetworkInterfacesRequest()
		req.NetworkInterfaceIds = common.StringPtrs([]string{p.opts.ENIID})
		enis, err := p.describeENIs(ctx, req)
		if err != nil {
			return "", err
		}
		var ip string
		for _, n := range enis {
			for _, a := range n.PrivateIpAddressSet {
				if a.Primary != nil && *a.Primary {
					ip = deref(a.PrivateIpAddress)
				}
			}
		}
		if ip == "" {
			return "", fmt.Errorf("tencent: eni %s has no primary private ip", p.opts.ENIID)
		}
		return ip, nil
	})
}

// routes returns, per configured table, the route for dst (nil: none).
func (p *Provider) routes(ctx context.Context, dst string) (map[string]*vpc.Route, error) {
	req := vpc.NewDescribeRouteTablesRequest()
	req.RouteTableIds = common.StringPtrs(p.opts.RouteTableIDs)
	var resp *vpc.DescribeRouteTablesResponse
	err := p.call(ctx, "DescribeRouteTables", func(c *vpc.Client) (err error) {
		resp, err = c.DescribeRouteTables(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*vpc.Route{}
	seen := map[string]bool{}
	if resp.Response != nil {
		for _, t := range resp.Response.RouteTableSet {
			id := deref(t.RouteTableId)
			seen[id] = true
			for _, r := range t.RouteSet {
				if deref(r.DestinationCidrBlock) == dst {
					out[id] = r
				}
			}
		}
	}
	for _, id := range p.opts.RouteTableIDs {
		if !seen[id] {
			return nil, fmt.Errorf("tencent: route table %s not found", id)
		}
	}
	return out, nil
}

func pointsAt(r *vpc.Route, ip string) bool {
	return r != nil && deref(r.GatewayType) == gatewayType && deref(r.GatewayId) == ip
}

// acquireRoute points VIP/32 in every listed table at us: ReplaceRoutes
// (by RouteId) when the route exists, CreateRoutes when it does not.
func (p *Provider) acquireRoute(ctx context.Context, vip providers.VIP) error {
	ip, err := p.nextHop(ctx)
	if err != nil {
		return err
	}
	dst := providers.HostRoute(vip)
	cur, err := p.routes(ctx, dst)
	if err != nil {
		return err
	}
	for _, table := range p.opts.RouteTableIDs {
		r := cur[table]
		if pointsAt(r, ip) {
			continue // already here: no write
		}
		route := &vpc.Route{DestinationCidrBlock: common.StringPtr(dst), GatewayType: common.StringPtr(gatewayType), GatewayId: common.StringPtr(ip)}
		if r != nil {
			route.RouteId = r.RouteId
			req := vpc.NewReplaceRoutesRequest()
			req.RouteTableId, req.Routes = common.StringPtr(table), []*vpc.Route{route}
			err = p.write.Do(ctx, "ReplaceRoutes", []any{"route_table_id", table, "vip", dst, "from", deref(r.GatewayId), "to", ip}, func(ctx context.Context) error {
				return p.call(ctx, "ReplaceRoutes", func(c *vpc.Client) error { _, err := c.ReplaceRoutes(req); return err })
			})
		} else {
			req := vpc.NewCreateRoutesRequest()
			req.RouteTableId, req.Routes = common.StringPtr(table), []*vpc.Route{route}
			err = p.write.Do(ctx, "CreateRoutes", []any{"route_table_id", table, "vip", dst, "to", ip}, func(ctx context.Context) error {
				return p.call(ctx, "CreateRoutes", func(c *vpc.Client) error { _, err := c.CreateRoutes(req); return err })
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// verifyRoute: every listed table routes VIP/32 to us.
func (p *Provider) verifyRoute(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	ip, err := p.nextHop(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	dst := providers.HostRoute(vip)
	cur, err := p.routes(ctx, dst)
	if err != nil {
		return providers.Ownership{}, err
	}
	o := providers.Ownership{Here: true, Owner: ip}
	var elsewhere []string
	for _, table := range p.opts.RouteTableIDs {
		r := cur[table]
		switch {
		case r == nil:
			o.Here, o.Owner = false, ""
			elsewhere = append(elsewhere, table+": no route")
		case !pointsAt(r, ip):
			o.Here, o.Owner = false, deref(r.GatewayId)
			elsewhere = append(elsewhere, table+": "+deref(r.GatewayType)+" "+deref(r.GatewayId))
		}
	}
	if o.Here {
		o.Detail = fmt.Sprintf("%s via %s %s in %d route tables", dst, gatewayType, ip, len(p.opts.RouteTableIDs))
	} else {
		o.Detail = dst + " elsewhere: " + strings.Join(elsewhere, ", ")
	}
	return o, nil
}
