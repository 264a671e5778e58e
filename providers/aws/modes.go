package aws

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/providers"
)

// --- secondary-ip ---

// self returns our ENI's VPC and primary private address, read once
// (DescribeNetworkInterfaces by id) and kept.
func (p *Provider) self(ctx context.Context) (vpc, primary string, err error) {
	p.selfMu.Lock()
	defer p.selfMu.Unlock()
	if p.selfVPC != "" {
		return p.selfVPC, p.selfPrimary, nil
	}
	out, err := p.api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{p.eni}})
	if err != nil {
		return "", "", callError("DescribeNetworkInterfaces", err)
	}
	for _, ni := range out.NetworkInterfaces {
		if aws.ToString(ni.NetworkInterfaceId) == p.eni {
			p.selfVPC, p.selfPrimary = aws.ToString(ni.VpcId), aws.ToString(ni.PrivateIpAddress)
		}
	}
	if p.selfVPC == "" {
		return "", "", fmt.Errorf("aws: DescribeNetworkInterfaces: eni %s missing from the answer or without vpc", p.eni)
	}
	return p.selfVPC, p.selfPrimary, nil
}

// pageSize is MaxResults of paged DescribeNetworkInterfaces calls.
const pageSize = 100

func (p *Provider) verifySecondaryIP(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	ip := vip.Prefix.Addr().Unmap()
	vpc, _, err := p.self(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	// Scoped to our VPC (addresses are unique within a VPC only, and
	// addresses.private-ip-address alone spans the region) and paged with
	// the SDK's paginator, as API_DescribeNetworkInterfaces requires.
	pages := ec2.NewDescribeNetworkInterfacesPaginator(p.api, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{
			{Name: aws.String("addresses.private-ip-address"), Values: []string{ip.String()}},
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
		},
		MaxResults: aws.Int32(pageSize),
	})
	var others []string
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return providers.Ownership{}, callError("DescribeNetworkInterfaces", err)
		}
		for _, ni := range out.NetworkInterfaces {
			id := aws.ToString(ni.NetworkInterfaceId)
			if id == p.eni {
				return providers.Ownership{Here: true, Owner: id, Detail: fmt.Sprintf("%s on %s (%s)", ip, id, p.instanceID)}, nil
			}
			holder := id
			if ni.Attachment != nil && ni.Attachment.InstanceId != nil {
				holder += " (" + *ni.Attachment.InstanceId + ")"
			}
			others = append(others, holder)
		}
	}
	if len(others) == 0 {
		return providers.Ownership{Detail: ip.String() + " is assigned to no network interface in " + vpc}, nil
	}
	return providers.Ownership{Owner: strings.SplitN(others[0], " ", 2)[0], Detail: ip.String() + " on " + strings.Join(others, ", ")}, nil
}

// acquireSecondaryIP makes one write when the address is elsewhere; the
// remap is asynchronous at EC2, so the mode is wrapped in providers.Confirm.
func (p *Provider) acquireSecondaryIP(ctx context.Context, vip providers.VIP) error {
	ip := vip.Prefix.Addr().Unmap()
	own, err := p.verifySecondaryIP(ctx, vip)
	if err != nil {
		return err
	}
	if own.Here {
		return nil
	}
	return p.w.Do(ctx, "AssignPrivateIpAddresses", []any{"vip", ip.String(), "eni", p.eni, "from", own.Owner}, func(ctx context.Context) error {
		_, err := p.api.AssignPrivateIpAddresses(ctx, p.assignInput(ip))
		if err != nil {
			return callError("AssignPrivateIpAddresses", err)
		}
		return nil
	})
}

func (p *Provider) assignInput(ip netip.Addr) *ec2.AssignPrivateIpAddressesInput {
	return &ec2.AssignPrivateIpAddressesInput{
		NetworkInterfaceId: aws.String(p.eni),
		PrivateIpAddresses: []string{ip.String()},
		AllowReassignment:  aws.Bool(true),
	}
}

// --- route-table ---

// routeState is where each route table sends VIP/32: table id → ENI id
// ("" when the route is missing). Blackholed routes count as elsewhere.
type routeState struct {
	dst     string
	tables  []string
	targets map[string]string
}

func (s routeState) ownership(eni string) providers.Ownership {
	o := providers.Ownership{Here: len(s.tables) > 0}
	var bad []string
	for _, t := range s.tables {
		target := s.targets[t]
		if target != eni {
			o.Here = false
			if o.Owner == "" && target != "" {
				o.Owner = target
			}
			if target == "" {
				target = "missing"
			}
			bad = append(bad, t+"→"+target)
		}
	}
	if o.Here {
		o.Owner = eni
		o.Detail = fmt.Sprintf("%s: %d route tables point at %s", s.dst, len(s.tables), eni)
	} else {
		o.Detail = fmt.Sprintf("%s: %d of %d route tables elsewhere: %s", s.dst, len(bad), len(s.tables), strings.Join(bad, ", "))
	}
	return o
}

func (p *Provider) readRoutes(ctx context.Context, ip netip.Addr) (routeState, error) {
	st := routeState{dst: netip.PrefixFrom(ip, 32).String(), tables: p.tables, targets: map[string]string{}}
	out, err := p.api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: p.tables})
	if err != nil {
		return st, callError("DescribeRouteTables", err)
	}
	seen := map[string]bool{}
	for _, rt := range out.RouteTables {
		id := aws.ToString(rt.RouteTableId)
		seen[id] = true
		for _, r := range rt.Routes {
			if aws.ToString(r.DestinationCidrBlock) != st.dst {
				continue
			}
			target := aws.ToString(r.NetworkInterfaceId)
			if target == "" {
				target = "other:" + firstNonEmpty(aws.ToString(r.InstanceId), aws.ToString(r.GatewayId), aws.ToString(r.NatGatewayId), "unknown")
			}
			if r.State == types.RouteStateBlackhole {
				target = "blackhole:" + target
			}
			st.targets[id] = target
		}
	}
	for _, t := range p.tables {
		if !seen[t] {
			return st, fmt.Errorf("aws: DescribeRouteTables: route table %s missing from the answer", t)
		}
	}
	return st, nil
}

func (p *Provider) verifyRoutes(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	st, err := p.readRoutes(ctx, vip.Prefix.Addr().Unmap())
	if err != nil {
		return providers.Ownership{}, err
	}
	return st.ownership(p.eni), nil
}

func (p *Provider) acquireRoutes(ctx context.Context, vip providers.VIP) error {
	st, err := p.readRoutes(ctx, vip.Prefix.Addr().Unmap())
	if err != nil {
		return err
	}
	// The tables are independent: write them concurrently so a failover
	// costs one round trip however many tables there are. A failed write
	// fails the attempt; the next attempt re-reads and only fixes the
	// tables still pointing elsewhere.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, t := range st.tables {
		target, exists := st.targets[t]
		if target == p.eni {
			continue
		}
		g.Go(func() error { return p.putRoute(gctx, t, st.dst, target, exists) })
	}
	return g.Wait()
}

func (p *Provider) putRoute(ctx context.Context, table, dst, from string, exists bool) error {
	if exists {
		err := p.w.Do(ctx, "ReplaceRoute", []any{"vip", dst, "route_table", table, "eni", p.eni, "from", from}, func(ctx context.Context) error {
			_, err := p.api.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{
				RouteTableId: aws.String(table), DestinationCidrBlock: aws.String(dst), NetworkInterfaceId: aws.String(p.eni),
			})
			if err != nil {
				return callError("ReplaceRoute", err)
			}
			return nil
		})
		if !routeGone(err) {
			return err
		}
		// Deleted since we read it: create it in the same attempt.
		p.log.Info("route deleted since read: creating it", "vip", dst, "route_table", table)
	}
	return p.w.Do(ctx, "CreateRoute", []any{"vip", dst, "route_table", table, "eni", p.eni, "from", from}, func(ctx context.Context) error {
		_, err := p.api.CreateRoute(ctx, &ec2.CreateRouteInput{
			RouteTableId: aws.String(table), DestinationCidrBlock: aws.String(dst), NetworkInterfaceId: aws.String(p.eni),
		})
		if err != nil {
			return callError("CreateRoute", err)
		}
		return nil
	})
}

// routeGone reports whether a ReplaceRoute error says the route does not
// exist: AWS answers InvalidParameterValue "There is no route defined for
// '…' in the route table. Use CreateRoute instead." (getmoto/moto PR 6425
// checked it against AWS); InvalidRoute.NotFound is accepted too.
func routeGone(err error) bool {
	var ce *providers.CallError
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case "InvalidRoute.NotFound":
		return true
	case "InvalidParameterValue":
		return strings.Contains(ce.Err.Error(), "Use CreateRoute")
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// --- eip ---

type eipState struct {
	allocation, publicIP, eni, privateIP string
}

func (s eipState) ownership(eni string, privateIP netip.Addr) providers.Ownership {
	here := s.eni == eni && s.privateIP == privateIP.String()
	o := providers.Ownership{Here: here, Owner: s.eni}
	if s.eni == "" {
		o.Detail = fmt.Sprintf("%s (%s) is not associated", s.publicIP, s.allocation)
	} else {
		o.Detail = fmt.Sprintf("%s (%s) → %s %s", s.publicIP, s.allocation, s.eni, s.privateIP)
	}
	return o
}

func (p *Provider) readEIP(ctx context.Context) (eipState, error) {
	st := eipState{allocation: p.allocation}
	out, err := p.api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{p.allocation}})
	if err != nil {
		return st, callError("DescribeAddresses", err)
	}
	for _, a := range out.Addresses {
		if aws.ToString(a.AllocationId) == p.allocation {
			st.publicIP, st.eni, st.privateIP = aws.ToString(a.PublicIp), aws.ToString(a.NetworkInterfaceId), aws.ToString(a.PrivateIpAddress)
			return st, nil
		}
	}
	return st, fmt.Errorf("aws: DescribeAddresses: allocation %s missing from the answer", p.allocation)
}

// eipTarget is the private address the Elastic IP must map to: private_ip,
// or our ENI's primary address (what AssociateAddress uses without one).
func (p *Provider) eipTarget(ctx context.Context) (netip.Addr, error) {
	if p.privateIP.IsValid() {
		return p.privateIP, nil
	}
	_, primary, err := p.self(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(primary)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("aws: eni %s primary address %q: %w", p.eni, primary, err)
	}
	return a, nil
}

func (p *Provider) verifyEIP(ctx context.Context, _ providers.VIP) (providers.Ownership, error) {
	want, err := p.eipTarget(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	st, err := p.readEIP(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	return st.ownership(p.eni, want), nil
}

func (p *Provider) acquireEIP(ctx context.Context, _ providers.VIP) error {
	want, err := p.eipTarget(ctx)
	if err != nil {
		return err
	}
	st, err := p.readEIP(ctx)
	if err != nil {
		return err
	}
	if st.ownership(p.eni, want).Here {
		return nil
	}
	in := &ec2.AssociateAddressInput{
		AllocationId:       aws.String(p.allocation),
		NetworkInterfaceId: aws.String(p.eni),
		AllowReassociation: aws.Bool(true),
	}
	if p.privateIP.IsValid() {
		in.PrivateIpAddress = aws.String(p.privateIP.String())
	}
	return p.w.Do(ctx, "AssociateAddress", []any{"allocation_id", p.allocation, "public_ip", st.publicIP, "eni", p.eni, "private_ip", st.privateIPFor(p.privateIP), "from", st.eni}, func(ctx context.Context) error {
		if _, err := p.api.AssociateAddress(ctx, in); err != nil {
			return callError("AssociateAddress", err)
		}
		return nil
	})
}

// privateIPFor is the private address an association will use, for logs.
func (s eipState) privateIPFor(want netip.Addr) string {
	if want.IsValid() {
		return want.String()
	}
	return "primary"
}
