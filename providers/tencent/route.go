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

// routes returns, per configured table, every route for dst (a table may
// hold several: ECMP, or a disabled one next to an enabled one).
func (p *Provider) routes(ctx context.Context, dst string) (map[string][]*vpc.Route, error) {
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
	out := map[string][]*vpc.Route{}
	seen := map[string]bool{}
	if resp.Response != nil {
		for _, t := range resp.Response.RouteTableSet {
			id := deref(t.RouteTableId)
			seen[id] = true
			for _, r := range t.RouteSet {
				if deref(r.DestinationCidrBlock) == dst {
					out[id] = append(out[id], r)
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

// enabled: a route without the field (older answers) is enabled.
func enabled(r *vpc.Route) bool { return r.Enabled == nil || *r.Enabled }

func pointsAt(r *vpc.Route, ip string) bool {
	return r != nil && deref(r.GatewayType) == gatewayType && deref(r.GatewayId) == ip
}

// tableRoutes sorts a table's routes for dst by whether they point at us
// and are enabled.
type tableRoutes struct {
	oursOn, oursOff, othersOn, othersOff []*vpc.Route
}

func sortRoutes(rs []*vpc.Route, ip string) tableRoutes {
	var t tableRoutes
	for _, r := range rs {
		switch ours, on := pointsAt(r, ip), enabled(r); {
		case ours && on:
			t.oursOn = append(t.oursOn, r)
		case ours:
			t.oursOff = append(t.oursOff, r)
		case on:
			t.othersOn = append(t.othersOn, r)
		default:
			t.othersOff = append(t.othersOff, r)
		}
	}
	return t
}

// here: an enabled route points at us and no enabled route elsewhere.
func (t tableRoutes) here() bool { return len(t.oursOn) > 0 && len(t.othersOn) == 0 }

func routeDesc(r *vpc.Route) string {
	s := deref(r.GatewayType) + " " + deref(r.GatewayId)
	if !enabled(r) {
		s += " (disabled)"
	}
	return s
}

// acquireRoute points VIP/32 in every listed table at us: CreateRoutes when
// there is no route; ReplaceRoutes (by RouteId) of an enabled route
// elsewhere; EnableRoutes of our disabled route, or ReplaceRoutes then
// EnableRoutes of a disabled one elsewhere.
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
		t := sortRoutes(cur[table], ip)
		switch {
		case t.here():
			continue // already here: no write
		case len(cur[table]) == 0:
			err = p.createRoute(ctx, table, dst, ip)
		case len(t.othersOn) > 0 && len(t.oursOn) > 0:
			err = &providers.CallError{Provider: "tencent", Action: "ReplaceRoutes", Code: "DuplicateRoutes",
				Err: fmt.Errorf("route table %s has enabled routes for %s to us and to %s: remove the duplicate", table, dst, routeDesc(t.othersOn[0]))}
		case len(t.othersOn) > 0:
			err = p.replaceRoute(ctx, table, dst, ip, t.othersOn[0])
		case len(t.oursOff) > 0:
			err = p.enableRoute(ctx, table, dst, t.oursOff[0])
		default:
			r := t.othersOff[0]
			if err = p.replaceRoute(ctx, table, dst, ip, r); err == nil {
				err = p.enableRoute(ctx, table, dst, r)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Provider) createRoute(ctx context.Context, table, dst, ip string) error {
	req := vpc.NewCreateRoutesRequest()
	req.RouteTableId = common.StringPtr(table)
	req.Routes = []*vpc.Route{{DestinationCidrBlock: common.StringPtr(dst), GatewayType: common.StringPtr(gatewayType), GatewayId: common.StringPtr(ip)}}
	return p.write.Do(ctx, "CreateRoutes", []any{"route_table_id", table, "vip", dst, "to", ip}, func(ctx context.Context) error {
		return p.call(ctx, "CreateRoutes", func(c *vpc.Client) error { _, err := c.CreateRoutes(req); return err })
	})
}

func (p *Provider) replaceRoute(ctx context.Context, table, dst, ip string, r *vpc.Route) error {
	req := vpc.NewReplaceRoutesRequest()
	req.RouteTableId = common.StringPtr(table)
	req.Routes = []*vpc.Route{{RouteId: r.RouteId, DestinationCidrBlock: common.StringPtr(dst), GatewayType: common.StringPtr(gatewayType), GatewayId: common.StringPtr(ip)}}
	return p.write.Do(ctx, "ReplaceRoutes", []any{"route_table_id", table, "vip", dst, "from", routeDesc(r), "to", ip}, func(ctx context.Context) error {
		return p.call(ctx, "ReplaceRoutes", func(c *vpc.Client) error { _, err := c.ReplaceRoutes(req); return err })
	})
}

func (p *Provider) enableRoute(ctx context.Context, table, dst string, r *vpc.Route) error {
	req := vpc.NewEnableRoutesRequest()
	req.RouteTableId = common.StringPtr(table)
	req.RouteIds = []*uint64{r.RouteId}
	return p.write.Do(ctx, "EnableRoutes", []any{"route_table_id", table, "vip", dst, "route_id", r.RouteId}, func(ctx context.Context) error {
		return p.call(ctx, "EnableRoutes", func(c *vpc.Client) error { _, err := c.EnableRoutes(req); return err })
	})
}

// verifyRoute: every listed table routes VIP/32 to us (enabled), and no
// enabled route for it goes elsewhere.
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
		t := sortRoutes(cur[table], ip)
		if t.here() {
			continue
		}
		o.Here, o.Owner = false, ""
		switch {
		case len(cur[table]) == 0:
			elsewhere = append(elsewhere, table+": no route")
		case len(t.othersOn) > 0:
			o.Owner = deref(t.othersOn[0].GatewayId)
			elsewhere = append(elsewhere, table+": "+routeDesc(t.othersOn[0]))
		default:
			elsewhere = append(elsewhere, table+": "+routeDesc(cur[table][0]))
		}
	}
	if o.Here {
		o.Detail = fmt.Sprintf("%s via %s %s in %d route tables", dst, gatewayType, ip, len(p.opts.RouteTableIDs))
	} else {
		o.Detail = dst + " elsewhere: " + strings.Join(elsewhere, ", ")
	}
	return o, nil
}
