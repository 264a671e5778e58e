package tencent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/vipd/vipd/providers"
)

func filter(name string, values ...string) *vpc.Filter {
	return &vpc.Filter{Name: common.StringPtr(name), Values: common.StringPtrs(values)}
}

func (p *Provider) describeENIs(ctx context.Context, req *vpc.DescribeNetworkInterfacesRequest) ([]*vpc.NetworkInterface, error) {
	var resp *vpc.DescribeNetworkInterfacesResponse
	err := p.call(ctx, "DescribeNetworkInterfaces", func(c *vpc.Client) (err error) {
		resp, err = c.DescribeNetworkInterfaces(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if resp.Response == nil {
		return nil, nil
	}
	return resp.Response.NetworkInterfaceSet, nil
}

// eni returns our ENI: configured, or the primary ENI of our instance.
func (p *Provider) eni(ctx context.Context) (string, error) {
	return p.eniID.Get(ctx, func(ctx context.Context) (string, error) {
		inst, err := p.instance(ctx)
		if err != nil {
			return "", err
		}
		req := vpc.NewDescribeNetworkInterfacesRequest()
		req.Filters = []*vpc.Filter{filter("attachment.instance-id", inst), filter("is-primary", "true")}
		enis, err := p.describeENIs(ctx, req)
		if err != nil {
			return "", err
		}
		var id string
		for _, n := range enis {
			if n.Primary != nil && *n.Primary {
				id = deref(n.NetworkInterfaceId)
			}
		}
		if id == "" {
			return "", fmt.Errorf("tencent: no primary eni found for instance %s: set eni_id", inst)
		}
		return id, nil
	})
}

// pageLimit is Limit of paged DescribeNetworkInterfaces calls (the API's
// maximum; the default is 20).
const pageLimit = 100

// maxPages bounds one paged lookup.
const maxPages = 50

// describeENIPages pages DescribeNetworkInterfaces (Offset/Limit, until
// TotalCount) and returns every ENI of every page.
func (p *Provider) describeENIPages(ctx context.Context, filters []*vpc.Filter) ([]*vpc.NetworkInterface, error) {
	var all []*vpc.NetworkInterface
	for page := 0; page < maxPages; page++ {
		req := vpc.NewDescribeNetworkInterfacesRequest()
		req.Filters = filters
		req.Offset, req.Limit = common.Uint64Ptr(uint64(len(all))), common.Uint64Ptr(pageLimit)
		var resp *vpc.DescribeNetworkInterfacesResponse
		err := p.call(ctx, "DescribeNetworkInterfaces", func(c *vpc.Client) (err error) {
			resp, err = c.DescribeNetworkInterfaces(req)
			return err
		})
		if err != nil {
			return nil, err
		}
		if resp.Response == nil {
			return all, nil
		}
		all = append(all, resp.Response.NetworkInterfaceSet...)
		total := resp.Response.TotalCount
		if len(resp.Response.NetworkInterfaceSet) == 0 || total == nil || uint64(len(all)) >= *total {
			return all, nil
		}
	}
	return nil, fmt.Errorf("tencent: DescribeNetworkInterfaces: more than %d pages", maxPages)
}

// network returns our ENI's VPC and subnet, read once and kept.
func (p *Provider) network(ctx context.Context) (vpcID, subnetID string, err error) {
	ours, err := p.eni(ctx)
	if err != nil {
		return "", "", err
	}
	v, err := p.vpcSubnet.Get(ctx, func(ctx context.Context) (string, error) {
		req := vpc.NewDescribeNetworkInterfacesRequest()
		req.NetworkInterfaceIds = common.StringPtrs([]string{ours})
		enis, err := p.describeENIs(ctx, req)
		if err != nil {
			return "", err
		}
		for _, n := range enis {
			if deref(n.NetworkInterfaceId) == ours && deref(n.VpcId) != "" {
				return deref(n.VpcId) + "/" + deref(n.SubnetId), nil
			}
		}
		return "", fmt.Errorf("tencent: eni %s not found or without vpc", ours)
	})
	if err != nil {
		return "", "", err
	}
	vpcID, subnetID, _ = strings.Cut(v, "/")
	return vpcID, subnetID, nil
}

// holder returns the ENI of our VPC holding ip. The lookup is scoped
// (vpc-id: addresses are unique within a VPC only), exact (address-ip alone
// is a suffix match for one address, per the API reference; ip-exact-match
// makes it exact) and paged (the default page is 20 ENIs).
func (p *Provider) holder(ctx context.Context, ip string) (*vpc.NetworkInterface, error) {
	vpcID, _, err := p.network(ctx)
	if err != nil {
		return nil, err
	}
	enis, err := p.describeENIPages(ctx, []*vpc.Filter{filter("vpc-id", vpcID), filter("address-ip", ip), filter("ip-exact-match", "true")})
	if err != nil {
		return nil, err
	}
	for _, n := range enis {
		if deref(n.VpcId) != "" && deref(n.VpcId) != vpcID {
			continue
		}
		for _, a := range n.PrivateIpAddressSet {
			if deref(a.PrivateIpAddress) == ip {
				return n, nil
			}
		}
	}
	return nil, nil
}

// acquirePrivateIP migrates the address from its holder to our ENI
// (MigratePrivateIpAddress, asynchronous: DescribeVpcTaskResult is polled
// until SUCCESS or FAILED), or assigns it when nobody holds it.
func (p *Provider) acquirePrivateIP(ctx context.Context, vip providers.VIP) error {
	ours, err := p.eni(ctx)
	if err != nil {
		return err
	}
	ip := vip.Prefix.Addr().String()
	h, err := p.holder(ctx, ip)
	if err != nil {
		return err
	}
	if h == nil {
		req := vpc.NewAssignPrivateIpAddressesRequest()
		req.NetworkInterfaceId = common.StringPtr(ours)
		req.PrivateIpAddresses = []*vpc.PrivateIpAddressSpecification{{PrivateIpAddress: common.StringPtr(ip)}}
		// Asynchronous: the RequestId is the task to follow.
		return p.write.Do(ctx, "AssignPrivateIpAddresses", []any{"eni", ours, "vip", ip}, func(ctx context.Context) error {
			var resp *vpc.AssignPrivateIpAddressesResponse
			err := p.call(ctx, "AssignPrivateIpAddresses", func(c *vpc.Client) (err error) {
				resp, err = c.AssignPrivateIpAddresses(req)
				return err
			})
			if err != nil {
				return err
			}
			if resp.Response == nil || deref(resp.Response.RequestId) == "" {
				return errors.New("tencent: AssignPrivateIpAddresses answered without RequestId: cannot follow the task")
			}
			return p.waitTask(ctx, "AssignPrivateIpAddresses", deref(resp.Response.RequestId))
		})
	}
	src := deref(h.NetworkInterfaceId)
	if src == ours {
		return nil // already here: no write
	}
	if p.opts.SubnetID != "" && deref(h.SubnetId) != p.opts.SubnetID {
		return fmt.Errorf("tencent: %s is held by %s in subnet %s, not subnet_id %s: MigratePrivateIpAddress needs one subnet",
			ip, src, deref(h.SubnetId), p.opts.SubnetID)
	}
	req := vpc.NewMigratePrivateIpAddressRequest()
	req.SourceNetworkInterfaceId, req.DestinationNetworkInterfaceId, req.PrivateIpAddress = common.StringPtr(src), common.StringPtr(ours), common.StringPtr(ip)
	return p.write.Do(ctx, "MigratePrivateIpAddress", []any{"from", src, "to", ours, "vip", ip}, func(ctx context.Context) error {
		var resp *vpc.MigratePrivateIpAddressResponse
		err := p.call(ctx, "MigratePrivateIpAddress", func(c *vpc.Client) (err error) {
			resp, err = c.MigratePrivateIpAddress(req)
			return err
		})
		if err != nil {
			return err
		}
		if resp.Response == nil || deref(resp.Response.RequestId) == "" {
			return errors.New("tencent: MigratePrivateIpAddress answered without RequestId: cannot follow the task")
		}
		return p.waitTask(ctx, "MigratePrivateIpAddress", deref(resp.Response.RequestId))
	})
}

// waitTask polls DescribeVpcTaskResult (TaskId = the async call's
// RequestId) with a bounded backoff until SUCCESS or FAILED.
func (p *Provider) waitTask(ctx context.Context, action, taskID string) error {
	wait := p.poll.Initial
	var last error
	for i := 0; i < p.poll.Attempts; i++ {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("tencent: %s task %s: %w", action, taskID, ctx.Err())
		case <-t.C:
		}
		if wait *= 2; wait > p.poll.Max {
			wait = p.poll.Max
		}
		resp := &taskResultResponse{BaseResponse: &tchttp.BaseResponse{}}
		req := newTaskResultRequest(taskID)
		err := p.call(ctx, "DescribeVpcTaskResult", func(c *vpc.Client) error { return c.Send(req, resp) })
		if err != nil {
			if !providers.IsRetryable(err) {
				return err
			}
			last = err
			continue
		}
		if resp.Response == nil {
			continue
		}
		switch st := deref(resp.Response.Status); st {
		case "SUCCESS":
			return nil
		case "FAILED":
			// Retryable: the next attempt re-reads the holder and decides
			// afresh (the failure may be a concurrent change).
			return &providers.CallError{Provider: "tencent", Action: action, RequestID: taskID, Code: "TaskFailed", Retryable: true,
				Err: fmt.Errorf("task %s failed: %s", taskID, deref(resp.Response.Output))}
		}
	}
	return &providers.CallError{Provider: "tencent", Action: action, RequestID: taskID, Code: "TaskTimeout", Retryable: true,
		Err: fmt.Errorf("task %s still running after %d polls (last poll error: %v)", taskID, p.poll.Attempts, last)}
}

// verifyPrivateIP: our ENI holds the address.
func (p *Provider) verifyPrivateIP(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	ours, err := p.eni(ctx)
	if err != nil {
		return providers.Ownership{}, err
	}
	h, err := p.holder(ctx, vip.Prefix.Addr().String())
	if err != nil {
		return providers.Ownership{}, err
	}
	if h == nil {
		return providers.Ownership{Detail: "private ip not assigned to any eni"}, nil
	}
	src := deref(h.NetworkInterfaceId)
	return providers.Ownership{Here: src == ours, Owner: src, Detail: "private ip on " + src}, nil
}
