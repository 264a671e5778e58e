package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vipd/vipd/providers"
)

// Preflight implements providers.Preflighter: credentials, identity (our
// ENI exists and is attached to our instance), a read of every VIP, and an
// EC2 DryRun=true of every write the mode makes (DryRunOperation: allowed;
// UnauthorizedOperation: not). It changes nothing.
func (p *Provider) Preflight(ctx context.Context, vips ...providers.VIP) (providers.Verdict, error) {
	v := providers.Verdict{Provider: "aws/" + string(p.mode)}
	if p.creds != nil {
		c, err := p.creds.Retrieve(ctx)
		if err != nil {
			err = fmt.Errorf("aws: no usable credentials: %w", err)
		}
		v.Add("credentials", err, "source "+c.Source)
	}
	v.Add("identity", p.checkIdentity(ctx), fmt.Sprintf("region %s, instance %s, eni %s", p.region, p.instanceID, p.eni))
	for _, vip := range vips {
		own, err := p.Verify(ctx, vip)
		v.Add("read "+vip.Prefix.String(), err, own.Detail)
	}
	if p.mode == ModeSecondaryIP {
		// The action has no DryRun parameter (API_AssignPrivateIpAddresses).
		v.Skip("write AssignPrivateIpAddresses", "EC2 has no dry run for this action: allow ec2:AssignPrivateIpAddresses on the ENIs of both nodes")
	}
	for _, w := range p.dryRunWrites(vips) {
		err := allowed(w.call(ctx))
		v.Add("write "+w.action, err, "allowed (DryRunOperation)")
	}
	return v, ctx.Err()
}

func (p *Provider) checkIdentity(ctx context.Context) error {
	out, err := p.api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{p.eni}})
	if err != nil {
		return callError("DescribeNetworkInterfaces", err)
	}
	for _, ni := range out.NetworkInterfaces {
		if aws.ToString(ni.NetworkInterfaceId) != p.eni {
			continue
		}
		if ni.Attachment == nil || aws.ToString(ni.Attachment.InstanceId) != p.instanceID {
			return fmt.Errorf("aws: eni %s is not attached to instance %s", p.eni, p.instanceID)
		}
		return nil
	}
	return fmt.Errorf("aws: eni %s not found", p.eni)
}

type dryRunWrite struct {
	action string
	call   func(ctx context.Context) error
}

// dryRunWrites are the writes Acquire may make for vips, with DryRun set.
func (p *Provider) dryRunWrites(vips []providers.VIP) []dryRunWrite {
	dry := aws.Bool(true)
	var out []dryRunWrite
	switch p.mode {
	case ModeRouteTable:
		for _, vip := range vips {
			dst := providers.HostRoute(vip)
			for _, t := range p.tables {
				out = append(out,
					dryRunWrite{"CreateRoute " + t + " " + dst, func(ctx context.Context) error {
						_, err := p.api.CreateRoute(ctx, &ec2.CreateRouteInput{DryRun: dry, RouteTableId: aws.String(t), DestinationCidrBlock: aws.String(dst), NetworkInterfaceId: aws.String(p.eni)})
						return callErrorOrNil("CreateRoute", err)
					}},
					dryRunWrite{"ReplaceRoute " + t + " " + dst, func(ctx context.Context) error {
						_, err := p.api.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{DryRun: dry, RouteTableId: aws.String(t), DestinationCidrBlock: aws.String(dst), NetworkInterfaceId: aws.String(p.eni)})
						return callErrorOrNil("ReplaceRoute", err)
					}})
			}
		}
	case ModeEIP:
		in := &ec2.AssociateAddressInput{DryRun: dry, AllocationId: aws.String(p.allocation), NetworkInterfaceId: aws.String(p.eni), AllowReassociation: aws.Bool(true)}
		if p.privateIP.IsValid() {
			in.PrivateIpAddress = aws.String(p.privateIP.String())
		}
		out = append(out, dryRunWrite{"AssociateAddress " + p.allocation, func(ctx context.Context) error {
			_, err := p.api.AssociateAddress(ctx, in)
			return callErrorOrNil("AssociateAddress", err)
		}})
	}
	return out
}

func callErrorOrNil(action string, err error) error {
	if err == nil {
		return nil
	}
	return callError(action, err)
}

// errWroteInDryRun: a DryRun call that succeeded would have changed state.
var errWroteInDryRun = errors.New("aws: the DryRun call succeeded instead of answering DryRunOperation")

// allowed maps a DryRun call's answer: DryRunOperation is the permission;
// anything else (UnauthorizedOperation, a bad parameter) is the failure.
func allowed(err error) error {
	var ce *providers.CallError
	switch {
	case err == nil:
		return errWroteInDryRun
	case errors.As(err, &ce) && ce.Code == "DryRunOperation":
		return nil
	}
	return err
}
