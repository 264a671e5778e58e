package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/vipd/vipd/providers"
)

// routeEntry finds the VIP/32 custom route entry in the route table; ok is
// false when there is none.
func (p *Provider) routeEntry(ctx context.Context, dst string) (e vpc.RouteEntry, ok bool, err error) {
	req := vpc.CreateDescribeRouteEntryListRequest()
	req.RouteTableId = p.opts.RouteTableIDs[0]
	req.DestinationCidrBlock = dst
	var resp *vpc.DescribeRouteEntryListResponse
	err = p.call(ctx, "DescribeRouteEntryList", func() (err error) {
		resp, err = p.vpc.DescribeRouteEntryList(req)
		return err
	})
	if err != nil {
		return e, false, err
	}
	for _, r := range resp.RouteEntrys.RouteEntry {
		if r.DestinationCidrBlock == dst {
			return r, true, nil
		}
	}
	return e, false, nil
}

// nextHop returns the entry's next hop type and id.
func nextHop(e vpc.RouteEntry) (typ, id string) {
	if hs := e.NextHops.NextHop; len(hs) > 0 {
		return hs[0].NextHopType, hs[0].NextHopId
	}
	return e.NextHopType, e.InstanceId
}

// acquireRoute points the VIP/32 route entry at our instance.
func (p *Provider) acquireRoute(ctx context.Context, vip providers.VIP) error {
	inst, err := p.instance(ctx)
	if err != nil {
		return err
	}
	dst := providers.HostRoute(vip)
	table := p.opts.RouteTableIDs[0]
	e, ok, err := p.routeEntry(ctx, dst)
	if err != nil {
		return err
	}
	if !ok {
		req := vpc.CreateCreateRouteEntryRequest()
		req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = table, dst, "Instance", inst
		return p.write.Do(ctx, "CreateRouteEntry", []any{"route_table_id", table, "vip", dst, "target", inst}, func(ctx context.Context) error {
			return p.call(ctx, "CreateRouteEntry", func() error { _, err := p.vpc.CreateRouteEntry(req); return err })
		})
	}
	typ, hop := nextHop(e)
	if typ == "Instance" && hop == inst {
		return nil // already here: no write
	}
	if e.RouteEntryId != "" {
		req := vpc.CreateModifyRouteEntryRequest()
		req.RouteEntryId, req.RouteTableId, req.DestinationCidrBlock = e.RouteEntryId, table, dst
		req.NewNextHopType, req.NewNextHopId = "Instance", inst
		return p.write.Do(ctx, "ModifyRouteEntry", []any{"route_table_id", table, "vip", dst, "from", hop, "to", inst}, func(ctx context.Context) error {
			return p.call(ctx, "ModifyRouteEntry", func() error { _, err := p.vpc.ModifyRouteEntry(req); return err })
		})
	}
	// An entry without id (older API answers) cannot be modified: replace it.
	del := vpc.CreateDeleteRouteEntryRequest()
	del.RouteTableId, del.DestinationCidrBlock, del.NextHopId = table, dst, hop
	err = p.write.Do(ctx, "DeleteRouteEntry", []any{"route_table_id", table, "vip", dst, "from", hop}, func(ctx context.Context) error {
		return p.call(ctx, "DeleteRouteEntry", func() error { _, err := p.vpc.DeleteRouteEntry(del); return err })
	})
	if err != nil {
		return err
	}
	cre := vpc.CreateCreateRouteEntryRequest()
	cre.RouteTableId, cre.DestinationCidrBlock, cre.NextHopType, cre.NextHopId = table, dst, "Instance", inst
	return p.write.Do(ctx, "CreateRouteEntry", []any{"route_table_id", table, "vip", dst, "target", inst}, func(ctx context.Context) error {
		return p.call(ctx, "CreateRouteEntry", func() error { _, err := p.vpc.CreateRouteEntry(cre); return err })
	})
}

// verifyRoute: the entry points at our instance and is no longer pending.
func (p *Provider) verifyRoute(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	inst, err := p.instance(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	e, ok, err := p.routeEntry(ctx, providers.HostRoute(vip))
	if err != nil {
		return providers.Ownership{}, err
	}
	if !ok {
		return providers.Ownership{Detail: "no route entry for " + providers.HostRoute(vip)}, nil
	}
	typ, hop := nextHop(e)
	o := providers.Ownership{Owner: hop, Detail: "route entry next hop " + typ + " " + hop + " status " + e.Status}
	o.Here = typ == "Instance" && hop == inst && (e.Status == "" || e.Status == "Available")
	return o, nil
}
