package aliyun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aliyun/aliyunopts"
)

// Modes of the aliyun provider.
const (
	ModeHaVip       = aliyunopts.ModeHaVip
	ModeRouteEntry  = aliyunopts.ModeRouteEntry
	ModeSecondaryIP = aliyunopts.ModeSecondaryIP
)

// DefaultMetadataEndpoint is the ECS instance metadata root.
const DefaultMetadataEndpoint = aliyunopts.DefaultMetadataEndpoint

// Options is the provider sub-config of an instance (defined in aliyunopts,
// without the SDK).
type Options = aliyunopts.Options

// Provider moves a VIP on Alibaba Cloud. It implements providers.Provider
// and providers.Verifier.
type Provider struct {
	opts  Options
	log   *slog.Logger
	gate  *providers.Gate
	vpc   *vpc.Client
	ecs   *ecs.Client
	md    providers.Metadata
	cred  credentials.CredentialsProvider
	write providers.Writer
	modes providers.Modes

	instanceID providers.Memo
	eniID      providers.Memo
	eniNet     providers.Memo // our ENI's "vpc/vswitch"
	havipENI   providers.Memo // havip: our ENI id, or "-" when metadata has none

	association providers.Memo // havip: our instance id once its association is checked (ensureAssociated)
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Verifier    = (*Provider)(nil)
	_ providers.Preflighter = (*Provider)(nil)
)

// New builds the provider. Credentials come from the SDK's default chain:
// environment (ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
// [/ ALIBABA_CLOUD_SECURITY_TOKEN]), the CLI profile, then the ECS RAM role
// via instance metadata. Region and instance id are read from instance
// metadata when not configured; New makes no cloud API call.
func New(ctx context.Context, opts Options, log *slog.Logger) (*Provider, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log = log.With("provider", "aliyun")
	mdBase := opts.MetadataEndpoint
	if mdBase == "" {
		mdBase = DefaultMetadataEndpoint
	}
	p := &Provider{
		opts: opts,
		log:  log,
		gate: providers.NewGate(nil),
		md: providers.Metadata{
			Base: mdBase, Timeout: 2 * time.Second,
			// Hardened (IMDSv2-like) mode: a token from ../api/token.
			TokenURL:       strings.TrimSuffix(strings.TrimSuffix(mdBase, "/"), "meta-data") + "api/token",
			TokenTTLHeader: "X-aliyun-ecs-metadata-token-ttl-seconds",
			TokenHeader:    "X-aliyun-ecs-metadata-token",
		},
		write: providers.Writer{DryRun: opts.DryRun, Log: log},
	}
	p.instanceID.Set(opts.InstanceID)
	p.eniID.Set(opts.ENIID)
	p.modes = providers.Modes{
		ModeHaVip: {Acquire: p.ensureAssociated, Verify: p.verifyHaVip},
		// Route entries are Pending after a write, and secondary addresses
		// move by two writes: confirm both before the attempt counts.
		ModeRouteEntry:  opts.Confirm.Wrap("aliyun", "ModifyRouteEntry", providers.Mode{Acquire: p.acquireRoute, Verify: p.verifyRoute}),
		ModeSecondaryIP: opts.Confirm.Wrap("aliyun", "AssignPrivateIpAddresses", providers.Mode{Acquire: p.acquireSecondary, Verify: p.verifySecondary}),
	}
	region := opts.Region
	if region == "" {
		r, err := p.md.Get(ctx, "region-id")
		if err != nil {
			return nil, fmt.Errorf("aliyun: region not configured: %w", err)
		}
		region = r
	}
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // providers.Retry owns retries
	cfg.MaxRetryTime = 0
	cfg.Scheme = "HTTPS"
	cfg.Transport = p.gate
	// One credentials provider shared by both clients so the RAM role's STS
	// token is fetched once and cached.
	cred := credentials.NewDefaultCredentialsProvider()
	// Each client gets its own endpoint: VPC (havip, route-entry) and ECS
	// (secondary-ip) are different services with different VPC-internal
	// endpoints (vpc-vpc.<region>.aliyuncs.com, ecs-vpc.<region>.aliyuncs.com).
	ecsEndpoint := opts.ECSEndpoint
	if ecsEndpoint == "" {
		ecsEndpoint = opts.Endpoint
	}
	vc, err := vpc.NewClientWithOptions(region, withEndpoint(cfg, opts.Endpoint), cred)
	if err != nil {
		return nil, fmt.Errorf("aliyun: vpc client: %w", err)
	}
	ec, err := ecs.NewClientWithOptions(region, withEndpoint(cfg, ecsEndpoint), cred)
	if err != nil {
		return nil, fmt.Errorf("aliyun: ecs client: %w", err)
	}
	if opts.Endpoint != "" {
		_, vc.Domain = providers.SplitEndpoint(opts.Endpoint)
	}
	if ecsEndpoint != "" {
		_, ec.Domain = providers.SplitEndpoint(ecsEndpoint)
	}
	p.vpc, p.ecs, p.cred = vc, ec, cred
	if opts.Mode == ModeRouteEntry && len(opts.RouteTableIDs) > 1 {
		log.Warn("route-entry uses only the first route table", "target", opts.RouteTableIDs[0], "reason", fmt.Sprintf("%d route_table_ids configured", len(opts.RouteTableIDs)))
	}
	return p, nil
}

// withEndpoint returns a copy of cfg with the scheme of endpoint ("" keeps
// HTTPS).
func withEndpoint(cfg *sdk.Config, endpoint string) *sdk.Config {
	c := *cfg
	if endpoint != "" {
		scheme, _ := providers.SplitEndpoint(endpoint)
		c.Scheme = strings.ToUpper(scheme)
	}
	return &c
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return "aliyun/" + p.opts.Mode }

// Acquire makes one attempt to point the VIP at this instance; it makes no
// write call when the cloud already points it here.
func (p *Provider) Acquire(ctx context.Context, vip providers.VIP) error {
	return p.modes.Acquire(ctx, "aliyun", p.opts.Mode, vip)
}

// Release makes no cloud call: the next master takes the VIP over (HAVIP by
// its GARP, route-entry and secondary-ip by its own Acquire). Unassigning or
// deleting here would only open a window with no owner at all.
func (p *Provider) Release(ctx context.Context, vip providers.VIP) error { return nil }

// Verify reads where the VIP points at the cloud.
func (p *Provider) Verify(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	return p.modes.Verify(ctx, "aliyun", p.opts.Mode, vip)
}

// call runs one SDK call through the gate and maps its error.
func (p *Provider) call(ctx context.Context, action string, fn func() error) error {
	status, err := p.gate.Do(ctx, fn)
	if err == nil {
		return nil
	}
	return callError(action, status, err)
}

// callError maps an SDK error to *providers.CallError.
func callError(action string, status int, err error) error {
	ce := &providers.CallError{Provider: "aliyun", Action: action, HTTPCode: status, Err: err}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		// Network error, call deadline, or an SDK client error (bad
		// credentials config, endpoint): only the first two are transient.
		ce.Retryable = providers.TransientHTTP(status, err)
		return ce
	}
	ce.Code, ce.RequestID, ce.HTTPCode = se.ErrorCode(), se.RequestId(), se.HttpStatus()
	// Only the server's message: the SDK's own text repeats code, request
	// id and headers.
	msg := se.Message()
	switch {
	case withholdMessage(ce.Code, msg):
		// SignatureDoesNotMatch's message is the server's string to sign,
		// which holds the AccessKeyId and the STS SecurityToken.
		msg = "server message withheld (it may contain the signed request); check the AccessKey pair, the STS token and the clock"
	case msg == "" || strings.HasPrefix(msg, "{"):
		msg = fmt.Sprintf("http status %d", se.HttpStatus())
	}
	ce.Err = errors.New(msg)
	ce.Retryable = retryableCode(ce.Code) || (!finalCodes[ce.Code] && (se.HttpStatus() >= 500 || se.HttpStatus() == 429))
	return ce
}

// withholdMessage: codes whose message may carry credentials, or any
// message that quotes a string to sign.
func withholdMessage(code, msg string) bool {
	switch {
	case code == "SignatureDoesNotMatch", code == "IncompleteSignature",
		strings.HasPrefix(code, "InvalidAccessKeyId"), strings.HasPrefix(code, "InvalidSecurityToken"):
		return true
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "string to sign") || strings.Contains(m, "stringtosign") || strings.Contains(m, "accesskeyid")
}

// instance returns our instance id (config or metadata, kept).
func (p *Provider) instance(ctx context.Context) (string, error) {
	return p.instanceID.Get(ctx, func(ctx context.Context) (string, error) {
		id, err := p.md.Get(ctx, "instance-id")
		if err != nil {
			return "", fmt.Errorf("aliyun: instance id: %w", err)
		}
		return id, nil
	})
}

// eni returns our ENI id (config, or the primary NIC's from metadata, kept).
func (p *Provider) eni(ctx context.Context) (string, error) {
	return p.eniID.Get(ctx, func(ctx context.Context) (string, error) {
		mac, err := p.md.Get(ctx, "mac")
		if err != nil {
			return "", fmt.Errorf("aliyun: eni id: %w", err)
		}
		id, err := p.md.Get(ctx, "network/interfaces/macs/"+mac+"/network-interface-id")
		if err != nil {
			return "", fmt.Errorf("aliyun: eni id: %w", err)
		}
		return id, nil
	})
}
