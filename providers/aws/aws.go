package aws

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aws/awsopts"
)

// Options configure a Provider (defined in awsopts, without the SDK).
type Options = awsopts.Options

// Mode selects how the VIP is moved.
type Mode = awsopts.Mode

// The modes of the aws provider.
const (
	ModeSecondaryIP = awsopts.ModeSecondaryIP
	ModeRouteTable  = awsopts.ModeRouteTable
	ModeEIP         = awsopts.ModeEIP
)

// Provider moves a VIP on EC2. It is safe for concurrent use.
type Provider struct {
	mode       Mode
	api        ec2API
	region     string
	instanceID string
	eni        string
	tables     []string
	allocation string
	privateIP  netip.Addr
	w          providers.Writer
	log        *slog.Logger
	modes      providers.Modes

	creds aws.CredentialsProvider // for Preflight; nil in unit tests

	selfMu               sync.Mutex
	selfVPC, selfPrimary string // our ENI's VPC and primary address, once read
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Verifier    = (*Provider)(nil)
	_ providers.Preflighter = (*Provider)(nil)
)

// New loads credentials (SDK default chain, optional assume-role), discovers
// what Options leave empty through IMDSv2, and returns a Provider whose EC2
// client makes exactly one attempt per call.
func New(ctx context.Context, opts Options, log *slog.Logger) (*Provider, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.MetadataEndpoint != "" {
		lo = append(lo, config.WithEC2IMDSEndpoint(opts.MetadataEndpoint))
	}
	if opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opts.HTTPClient))
	}
	// The instance-role credentials come from IMDS too: same client, same
	// rule (never through a proxy, IMDSv2 only).
	md := metadataClient(opts.MetadataEndpoint)
	lo = append(lo, config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = md }))
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws: load config: %w", err)
	}
	if opts.Region == "" {
		opts.Region = cfg.Region // AWS_REGION, shared config
	}
	if opts.Region == "" || opts.InstanceID == "" || opts.ENIID == "" {
		id, err := discover(ctx, md, opts.Interface, identity{Region: opts.Region, InstanceID: opts.InstanceID, ENIID: opts.ENIID})
		if err != nil {
			return nil, err
		}
		opts.Region, opts.InstanceID, opts.ENIID = id.Region, id.InstanceID, id.ENIID
	}
	cfg.Region = opts.Region
	if opts.AssumeRoleARN != "" {
		stsc := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if opts.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(opts.STSEndpoint)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, opts.AssumeRoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "vipd-" + opts.InstanceID
		}))
	}
	client := ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		// One attempt per call: providers.Retry owns retries, backoff and
		// the per-attempt log line (request id, code). The SDK's standard
		// retryer would hide up to 3 attempts inside each of ours and keep
		// its own client-side retry quota.
		o.Retryer = aws.NopRetryer{}
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	log = log.With("provider", "aws")
	p := newProvider(client, opts, log)
	p.creds = cfg.Credentials
	log.Info("aws provider ready", "mode", string(opts.Mode), "region", opts.Region, "instance_id", opts.InstanceID, "eni", opts.ENIID, "dry_run", opts.DryRun, "no_local_address", opts.NoLocalAddress)
	if opts.Mode == ModeSecondaryIP && opts.NoLocalAddress {
		log.Warn("secondary-ip mode without a local address", "reason", "the host drops traffic to a vip that is not on its nic")
	}
	return p, nil
}

func newProvider(api ec2API, opts Options, log *slog.Logger) *Provider {
	p := &Provider{
		mode:       opts.Mode,
		api:        api,
		region:     opts.Region,
		instanceID: opts.InstanceID,
		eni:        opts.ENIID,
		tables:     slices.Clone(opts.RouteTableIDs),
		allocation: opts.AllocationID,
		privateIP:  opts.PrivateIP,
		w:          providers.Writer{DryRun: opts.DryRun, Log: log},
		log:        log,
	}
	p.modes = providers.Modes{
		string(ModeSecondaryIP): opts.Confirm.Wrap("aws", "AssignPrivateIpAddresses", providers.Mode{Acquire: p.acquireSecondaryIP, Verify: p.verifySecondaryIP}),
		string(ModeRouteTable):  {Acquire: p.acquireRoutes, Verify: p.verifyRoutes},
		string(ModeEIP):         {Acquire: p.acquireEIP, Verify: p.verifyEIP},
	}
	return p
}

// metadataClient is the IMDS client of discovery and of the instance-role
// credentials: IMDSv2 only (never a tokenless GET), and never through a
// proxy. The SDK's default HTTP client honours HTTP_PROXY / HTTPS_PROXY,
// so without this a host with a proxy in its environment and no NO_PROXY
// entry for 169.254.169.254 would send its metadata (and credential)
// requests to the proxy. The EC2 and STS clients keep the environment's
// proxy: see deploy/README.md.
func metadataClient(endpoint string) *imds.Client {
	return imds.New(imds.Options{
		Endpoint:       endpoint,
		EnableFallback: aws.FalseTernary,
		HTTPClient:     metadataHTTPClient(),
	})
}

func metadataHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.Proxy = nil })
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return "aws" }

// Identity returns what the provider acts for: region, instance id, ENI.
func (p *Provider) Identity() (region, instanceID, eni string) {
	return p.region, p.instanceID, p.eni
}

// Acquire points the VIP at this instance's ENI, unless the cloud already
// does (then it makes no write call). One call is one attempt; in
// secondary-ip mode an attempt that wrote also waits (bounded) for the
// asynchronous remap to show.
func (p *Provider) Acquire(ctx context.Context, vip providers.VIP) error {
	return p.modes.Acquire(ctx, "aws", string(p.mode), vip)
}

// Verify reads where the cloud points the VIP.
func (p *Provider) Verify(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	return p.modes.Verify(ctx, "aws", string(p.mode), vip)
}

// Release makes no API call: the node that becomes master takes the VIP over
// (AllowReassignment / ReplaceRoute / AllowReassociation), and a node that
// stops being master must not fight it, nor leave the VIP pointing nowhere
// while no node holds it.
func (p *Provider) Release(_ context.Context, vip providers.VIP) error {
	p.log.Info("release is a no-op at the cloud", "vip", vip.Prefix.String(), "reason", "the next master takes the vip over")
	return nil
}
