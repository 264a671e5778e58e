package tencent

import (
	"context"
	"fmt"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/vipd/vipd/providers"
)

func (p *Provider) describeHaVip(ctx context.Context) (*haVip, error) {
	req := vpc.NewDescribeHaVipsRequest()
	req.HaVipIds = common.StringPtrs([]string{p.opts.HaVipID})
	resp := &haVipsResponse{BaseResponse: &tchttp.BaseResponse{}}
	err := p.call(ctx, "DescribeHaVips", func(c *vpc.Client) error { return c.Send(req, resp) })
	if err != nil {
		return nil, err
	}
	if resp.Response != nil {
		for _, h := range resp.Response.HaVipSet {
			if deref(h.HaVipId) == p.opts.HaVipID {
				return h, nil
			}
		}
	}
	return nil, fmt.Errorf("tencent: havip %s not found", p.opts.HaVipID)
}

// ensureAssociated checks once that the HAVIP may drift to us. With drift
// range checking off (CheckAssociate false, the default) any CVM of the
// subnet may take it by GARP; with it on, this instance (or ENI) must be in
// HaVipAssociationSet: AssociateHaVipInstance adds it when
// manage_association is set, else Acquire fails with a clear error.
func (p *Provider) ensureAssociated(ctx context.Context, _ providers.VIP) error {
	_, err := p.association.Get(ctx, p.checkAssociation)
	return err
}

// checkAssociation does the check of ensureAssociated; it returns our
// instance id once the HAVIP may follow us.
func (p *Provider) checkAssociation(ctx context.Context) (string, error) {
	inst, err := p.instance(ctx)
	if err != nil {
		return "", err
	}
	h, err := p.describeHaVip(ctx)
	if err != nil {
		return "", err
	}
	if h.CheckAssociate != nil && *h.CheckAssociate && !p.inDriftRange(h, inst) {
		if !p.opts.ManageAssociation {
			return "", fmt.Errorf("tencent: havip %s may not drift to instance %s (drift range check on, not in HaVipAssociationSet): add it in the console or set manage_association",
				p.opts.HaVipID, inst)
		}
		a := &haVipAssociation{HaVipId: common.StringPtr(p.opts.HaVipID), InstanceId: common.StringPtr(inst), InstanceType: common.StringPtr("CVM")}
		if p.opts.ENIID != "" {
			a.InstanceId, a.InstanceType = common.StringPtr(p.opts.ENIID), common.StringPtr("ENI")
		}
		req := newAssociateHaVipInstanceRequest(a)
		err := p.write.Do(ctx, "AssociateHaVipInstance", []any{"havip_id", p.opts.HaVipID, "target", deref(a.InstanceId), "type", deref(a.InstanceType)}, func(ctx context.Context) error {
			return p.call(ctx, "AssociateHaVipInstance", func(c *vpc.Client) error { return c.Send(req, &plainResponse{BaseResponse: &tchttp.BaseResponse{}}) })
		})
		if err != nil {
			return "", err
		}
	}
	return inst, nil
}

func (p *Provider) inDriftRange(h *haVip, inst string) bool {
	for _, a := range h.HaVipAssociationSet {
		id := deref(a.InstanceId)
		if id == inst || (p.opts.ENIID != "" && id == p.opts.ENIID) {
			return true
		}
	}
	return false
}

// verifyHaVip: the HAVIP is bound to our CVM (or our ENI, when configured).
func (p *Provider) verifyHaVip(ctx context.Context, _ providers.VIP) (providers.Ownership, error) {
	inst, err := p.instance(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	h, err := p.describeHaVip(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	bound, eni := deref(h.InstanceId), deref(h.NetworkInterfaceId)
	o := providers.Ownership{
		Here:  bound == inst || (p.opts.ENIID != "" && eni == p.opts.ENIID),
		Owner: bound,
	}
	if o.Owner == "" {
		o.Owner = eni
	}
	switch {
	case o.Here:
		o.Detail = "havip bound to " + inst
	case o.Owner == "":
		o.Detail = "havip not bound yet (pending GARP)"
	default:
		o.Detail = "havip bound to " + o.Owner + " (pending GARP)"
	}
	return o, nil
}
