package aliyun

import (
	"context"
	"fmt"
	"slices"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/vipd/vipd/providers"
)

// describeHaVip reads our HAVIP.
func (p *Provider) describeHaVip(ctx context.Context) (vpc.HaVip, error) {
	req := vpc.CreateDescribeHaVipsRequest()
	req.Filter = &[]vpc.DescribeHaVipsFilter{{Key: "HaVipId", Value: &[]string{p.opts.HaVipID}}}
	var resp *vpc.DescribeHaVipsResponse
	err := p.call(ctx, "DescribeHaVips", func() (err error) {
		resp, err = p.vpc.DescribeHaVips(req)
		return err
	})
	if err != nil {
		return vpc.HaVip{}, err
	}
	for _, h := range resp.HaVips.HaVip {
		if h.HaVipId == p.opts.HaVipID {
			return h, nil
		}
	}
	return vpc.HaVip{}, fmt.Errorf("aliyun: havip %s not found (request_id=%s)", p.opts.HaVipID, resp.RequestId)
}

// ensureAssociated checks once that our instance is associated with the
// HAVIP (it can only follow the GARP of associated instances) and
// associates it when manage_association is set. Later calls are free.
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
	if !slices.Contains(h.AssociatedInstances.AssociatedInstance, inst) {
		if !p.opts.ManageAssociation {
			return "", fmt.Errorf("aliyun: havip %s is not associated with instance %s (associated: %v): associate it in the console or set manage_association",
				p.opts.HaVipID, inst, h.AssociatedInstances.AssociatedInstance)
		}
		req := vpc.CreateAssociateHaVipRequest()
		req.HaVipId, req.InstanceId = p.opts.HaVipID, inst
		err := p.write.Do(ctx, "AssociateHaVip", []any{"havip_id", p.opts.HaVipID, "instance_id", inst}, func(ctx context.Context) error {
			return p.call(ctx, "AssociateHaVip", func() error {
				_, err := p.vpc.AssociateHaVip(req)
				return err
			})
		})
		if err != nil {
			return "", err
		}
	}
	return inst, nil
}

// verifyHaVip: the HAVIP's master is the instance whose GARP it followed.
func (p *Provider) verifyHaVip(ctx context.Context, _ providers.VIP) (providers.Ownership, error) {
	inst, err := p.instance(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	h, err := p.describeHaVip(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	o := providers.Ownership{Here: h.MasterInstanceId == inst, Owner: h.MasterInstanceId}
	switch {
	case o.Here:
		o.Detail = "havip master " + inst
	case h.MasterInstanceId == "":
		o.Detail = "havip has no master yet (pending GARP)"
	default:
		o.Detail = "havip master is " + h.MasterInstanceId + " (pending GARP)"
	}
	return o, nil
}
