package aliyun

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// ours returns the ids an association or a master may name for this node:
// our instance, and our ENI when known (configured or from metadata): a
// HAVIP associated by ENI (InstanceType NetworkInterface) lists the ENI.
func (p *Provider) ours(ctx context.Context) (inst string, ids []string, err error) {
	inst, err = p.instance(ctx)
	if err != nil {
		return "", nil, err
	}
	ids = []string{inst}
	// Looked up once: a node whose metadata has no ENI id is matched by
	// instance only, without a metadata call per drift check.
	eni, _ := p.havipENI.Get(ctx, func(ctx context.Context) (string, error) {
		eni, err := p.eni(ctx)
		if err != nil {
			p.log.Info("havip: matching by instance only", "reason", err.Error())
			return "-", nil
		}
		return eni, nil
	})
	if eni != "-" {
		ids = append(ids, eni)
	}
	return inst, ids, nil
}

func associated(h vpc.HaVip, ids []string) bool {
	return slices.ContainsFunc(h.AssociatedInstances.AssociatedInstance, func(a string) bool { return slices.Contains(ids, a) })
}

// checkAssociation does the check of ensureAssociated; it returns our
// instance id once the HAVIP may follow us. AssociateHaVip is asynchronous
// (the HAVIP is "Associating" until it is done): after sending it, the
// check polls DescribeHaVips (bounded by Options.Confirm) and fails with a
// retryable error if the association has not shown; the next attempt
// re-reads, and re-sends only if the HAVIP is neither associated nor still
// associating.
func (p *Provider) checkAssociation(ctx context.Context) (string, error) {
	inst, ids, err := p.ours(ctx)
	if err != nil {
		return "", err
	}
	h, err := p.describeHaVip(ctx)
	if err != nil {
		return "", err
	}
	if associated(h, ids) {
		return inst, nil
	}
	if !p.opts.ManageAssociation {
		return "", fmt.Errorf("aliyun: havip %s is not associated with instance %s (associated: %v): associate it in the console or set manage_association",
			p.opts.HaVipID, strings.Join(ids, " or eni "), h.AssociatedInstances.AssociatedInstance)
	}
	if h.Status == "Associating" {
		return "", &providers.CallError{Provider: "aliyun", Action: "AssociateHaVip", Code: "IncorrectHaVipStatus", Retryable: true,
			Err: fmt.Errorf("havip %s is associating: waiting for it", p.opts.HaVipID)}
	}
	req := vpc.CreateAssociateHaVipRequest()
	req.HaVipId, req.InstanceId = p.opts.HaVipID, inst // InstanceType default: EcsInstance
	wctx, wrote := providers.CountWrites(ctx)
	err = p.write.Do(wctx, "AssociateHaVip", []any{"havip_id", p.opts.HaVipID, "target", req.InstanceId}, func(ctx context.Context) error {
		return p.call(ctx, "AssociateHaVip", func() error {
			_, err := p.vpc.AssociateHaVip(req)
			return err
		})
	})
	if err != nil || wrote.Load() == 0 {
		return inst, err // dry-run: nothing to wait for
	}
	confirm := p.opts.Confirm.Wrap("aliyun", "AssociateHaVip", providers.Mode{
		Acquire: func(ctx context.Context, _ providers.VIP) error { providers.MarkWrite(ctx); return nil },
		Verify: func(ctx context.Context, _ providers.VIP) (providers.Ownership, error) {
			h, err := p.describeHaVip(ctx)
			if err != nil {
				return providers.Ownership{}, err
			}
			return providers.Ownership{Here: associated(h, ids), Detail: "havip status " + h.Status}, nil
		},
	})
	if err := confirm.Acquire(ctx, providers.VIP{}); err != nil {
		return "", err
	}
	return inst, nil
}

// verifyHaVip: the HAVIP's master is the instance whose GARP it followed.
func (p *Provider) verifyHaVip(ctx context.Context, _ providers.VIP) (providers.Ownership, error) {
	inst, ids, err := p.ours(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	h, err := p.describeHaVip(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	o := providers.Ownership{Here: slices.Contains(ids, h.MasterInstanceId), Owner: h.MasterInstanceId}
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
