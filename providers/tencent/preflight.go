package tencent

import (
	"context"
	"fmt"
	"strings"

	"github.com/vipd/vipd/providers"
)

// writeActions are the writes each mode may make.
var writeActions = map[string][]string{
	ModeHaVip:     {"AssociateHaVipInstance"},
	ModePrivateIP: {"MigratePrivateIpAddress", "AssignPrivateIpAddresses"},
	ModeRoute:     {"ReplaceRoutes", "CreateRoutes", "EnableRoutes"},
}

// Preflight implements providers.Preflighter: credentials, identity
// (instance, and the ENI with its VPC/subnet, the HAVIP, or the next hop), a
// read of every VIP. The VPC API has no dry run for the write actions: they
// are reported as skipped. It changes nothing.
func (p *Provider) Preflight(ctx context.Context, vips ...providers.VIP) (providers.Verdict, error) {
	v := providers.Verdict{Provider: p.Name()}
	if _, err := p.creds.get(ctx); err != nil {
		v.Add("credentials", err, "")
	} else {
		src := "environment"
		if !p.creds.expiresAt().IsZero() {
			src = "CAM role from instance metadata"
		}
		v.Add("credentials", nil, src)
	}
	detail, err := p.identity(ctx)
	v.Add("identity", err, detail)
	for _, vip := range vips {
		own, err := p.Verify(ctx, vip)
		v.Add("read "+vip.Prefix.String(), err, own.Detail)
	}
	if p.opts.Mode != ModeHaVip || p.opts.ManageAssociation {
		v.Skip("write "+strings.Join(writeActions[p.opts.Mode], ", "), "the Tencent Cloud VPC API has no dry run for these actions: the CAM policy is only tested by the first failover")
	}
	return v, ctx.Err()
}

func (p *Provider) identity(ctx context.Context) (string, error) {
	inst, err := p.instance(ctx)
	if err != nil {
		return "", err
	}
	detail := "instance " + inst
	switch p.opts.Mode {
	case ModePrivateIP:
		eni, err := p.eni(ctx)
		if err != nil {
			return detail, err
		}
		vpcID, subnet, err := p.network(ctx)
		if err != nil {
			return detail, err
		}
		detail += fmt.Sprintf(", eni %s in %s/%s", eni, vpcID, subnet)
	case ModeHaVip:
		h, err := p.describeHaVip(ctx)
		if err != nil {
			return detail, err
		}
		drift := "drift range unrestricted"
		if h.CheckAssociate != nil && *h.CheckAssociate {
			drift = "drift range restricted"
			if !p.inDriftRange(h, inst) && !p.opts.ManageAssociation {
				return detail, fmt.Errorf("tencent: havip %s may not drift to %s and manage_association is off", p.opts.HaVipID, inst)
			}
		}
		detail += fmt.Sprintf(", havip %s (%s)", p.opts.HaVipID, drift)
	case ModeRoute:
		ip, err := p.nextHop(ctx)
		if err != nil {
			return detail, err
		}
		detail += ", next hop " + ip
	}
	return detail, nil
}
