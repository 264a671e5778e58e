package aliyun

import (
	"context"
	"fmt"
	"strings"

	"github.com/vipd/vipd/providers"
)

// writeActions are the writes each mode may make.
var writeActions = map[string][]string{
	ModeHaVip:       {"AssociateHaVip"},
	ModeRouteEntry:  {"ModifyRouteEntry", "CreateRouteEntry", "DeleteRouteEntry"},
	ModeSecondaryIP: {"UnassignPrivateIpAddresses", "AssignPrivateIpAddresses"},
}

// Preflight implements providers.Preflighter: credentials, identity
// (instance, and the ENI with its VPC/vSwitch or the HAVIP's association),
// a read of every VIP. The write actions have no dry run on Alibaba Cloud:
// they are reported as skipped. It changes nothing.
func (p *Provider) Preflight(ctx context.Context, vips ...providers.VIP) (providers.Verdict, error) {
	v := providers.Verdict{Provider: p.Name()}
	if cc, err := p.cred.GetCredentials(); err != nil {
		v.Add("credentials", fmt.Errorf("aliyun: no usable credentials: %w", err), "")
	} else {
		v.Add("credentials", nil, "provider "+cc.ProviderName)
	}
	detail, err := p.identity(ctx)
	v.Add("identity", err, detail)
	for _, vip := range vips {
		own, err := p.Verify(ctx, vip)
		v.Add("read "+vip.Prefix.String(), err, own.Detail)
	}
	if p.opts.Mode != ModeHaVip || p.opts.ManageAssociation {
		v.Skip("write "+strings.Join(writeActions[p.opts.Mode], ", "), "Alibaba Cloud has no dry run for these actions: the RAM policy is only tested by the first failover")
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
	case ModeSecondaryIP:
		eni, err := p.eni(ctx)
		if err != nil {
			return detail, err
		}
		vpcID, vsw, err := p.network(ctx)
		if err != nil {
			return detail, err
		}
		detail += fmt.Sprintf(", eni %s in %s/%s", eni, vpcID, vsw)
	case ModeHaVip:
		_, ids, err := p.ours(ctx)
		if err != nil {
			return detail, err
		}
		h, err := p.describeHaVip(ctx)
		if err != nil {
			return detail, err
		}
		if !associated(h, ids) && !p.opts.ManageAssociation {
			return detail, fmt.Errorf("aliyun: havip %s is not associated with %s and manage_association is off", p.opts.HaVipID, strings.Join(ids, " or "))
		}
		detail += fmt.Sprintf(", havip %s status %s, associated %v", p.opts.HaVipID, h.Status, h.AssociatedInstances.AssociatedInstance)
	}
	return detail, nil
}
