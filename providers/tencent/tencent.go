package tencent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/tencent/tencentopts"
)

// Modes of the tencent provider.
const (
	ModeHaVip     = tencentopts.ModeHaVip
	ModePrivateIP = tencentopts.ModePrivateIP
	ModeRoute     = tencentopts.ModeRoute
)

// DefaultMetadataEndpoint is the CVM instance metadata root.
const DefaultMetadataEndpoint = tencentopts.DefaultMetadataEndpoint

// Options is the provider sub-config of an instance (defined in
// tencentopts, without the SDK).
type Options = tencentopts.Options

// TaskPoll is the bounded backoff used to poll DescribeVpcTaskResult.
type TaskPoll = tencentopts.TaskPoll

// Provider moves a VIP on Tencent Cloud. It implements providers.Provider
// and providers.Verifier.
type Provider struct {
	opts   Options
	log    *slog.Logger
	gate   *providers.Gate
	client *vpc.Client
	md     providers.Metadata
	creds  *credentialSource
	write  providers.Writer
	poll   TaskPoll
	modes  providers.Modes

	instanceID providers.Memo
	eniID      providers.Memo
	nextHopIP  providers.Memo
	vpcSubnet  providers.Memo // our ENI's "vpc/subnet"

	association providers.Memo // havip: our instance id once the drift range is checked (ensureAssociated)
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Verifier    = (*Provider)(nil)
	_ providers.Preflighter = (*Provider)(nil)
)

// New builds the provider. Credentials: TENCENTCLOUD_SECRET_ID /
// TENCENTCLOUD_SECRET_KEY [/ TENCENTCLOUD_SESSION_TOKEN], else the CVM's CAM
// role from instance metadata (renewed before it expires). Region and
// instance id come from metadata when not configured. New makes no cloud API
// call.
func New(ctx context.Context, opts Options, log *slog.Logger) (*Provider, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log = log.With("provider", "tencent")
	mdBase := opts.MetadataEndpoint
	if mdBase == "" {
		mdBase = DefaultMetadataEndpoint
	}
	md := providers.Metadata{Base: mdBase, Timeout: 2 * time.Second}
	p := &Provider{
		opts:  opts,
		log:   log,
		gate:  providers.NewGate(nil),
		md:    md,
		creds: &credentialSource{md: md, now: time.Now},
		write: providers.Writer{DryRun: opts.DryRun, Log: log},
		poll:  opts.TaskPoll.WithDefaults(),
	}
	p.instanceID.Set(opts.InstanceID)
	p.eniID.Set(opts.ENIID)
	p.modes = providers.Modes{
		ModeHaVip:     {Acquire: p.ensureAssociated, Verify: p.verifyHaVip},
		ModePrivateIP: opts.Confirm.Wrap("tencent", "MigratePrivateIpAddress", providers.Mode{Acquire: p.acquirePrivateIP, Verify: p.verifyPrivateIP}),
		ModeRoute:     {Acquire: p.acquireRoute, Verify: p.verifyRoute},
	}
	if c := credentialsFromEnv(); c != nil {
		p.creds.cred = c
	}
	region := opts.Region
	if region == "" {
		r, err := md.Get(ctx, "placement/region")
		if err != nil {
			return nil, fmt.Errorf("tencent: region not configured: %w", err)
		}
		region = r
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.ReqTimeout = 30 // seconds; each call is also bound to its ctx
	prof.Language = "en-US"
	if opts.Endpoint != "" {
		prof.HttpProfile.Scheme, prof.HttpProfile.Endpoint = providers.SplitEndpoint(opts.Endpoint)
	}
	c, err := vpc.NewClient(common.NewCredential("", ""), region, prof)
	if err != nil {
		return nil, fmt.Errorf("tencent: vpc client: %w", err)
	}
	c.WithHttpTransport(p.gate) // the SDK of this version never retries by itself
	p.client = c
	return p, nil
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return "tencent/" + p.opts.Mode }

// Acquire makes one attempt to point the VIP at this instance; it makes no
// write call when the cloud already points it here.
func (p *Provider) Acquire(ctx context.Context, vip providers.VIP) error {
	return p.modes.Acquire(ctx, "tencent", p.opts.Mode, vip)
}

// Release makes no cloud call: the next master takes the VIP over (HAVIP by
// its GARP, private-ip and route by its own Acquire). Moving it away here
// would only open a window with no owner at all.
func (p *Provider) Release(ctx context.Context, vip providers.VIP) error { return nil }

// Verify reads where the VIP points at the cloud.
func (p *Provider) Verify(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	return p.modes.Verify(ctx, "tencent", p.opts.Mode, vip)
}

// call runs one SDK call through the gate with a current credential and
// maps its error.
func (p *Provider) call(ctx context.Context, action string, fn func(c *vpc.Client) error) error {
	cred, err := p.creds.get(ctx)
	if err != nil {
		return &providers.CallError{Provider: "tencent", Action: action, Code: "NoCredentials", Err: err}
	}
	status, err := p.gate.Do(ctx, func() error {
		p.client.WithCredential(cred)
		return fn(p.client)
	})
	if err == nil {
		return nil
	}
	ce := callError(ctx, action, status, err)
	// A server message may echo what was signed: never let the credential
	// reach an error or a log line.
	ce.Err = redacted{ce.Err, providers.Redact(ce.Err.Error(), cred.SecretId, cred.SecretKey, cred.Token)}
	return ce
}

// redacted is an error whose text has had the credentials removed; it still
// unwraps to the original (context errors stay visible to errors.Is).
type redacted struct {
	err error
	msg string
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }

// callError maps an SDK error to *providers.CallError.
func callError(ctx context.Context, action string, status int, err error) *providers.CallError {
	ce := &providers.CallError{Provider: "tencent", Action: action, HTTPCode: status, Err: err}
	var te *tcerr.TencentCloudSDKError
	if !errors.As(err, &te) {
		ce.Retryable = providers.TransientHTTP(status, err)
		return ce
	}
	ce.Code, ce.RequestID, ce.Err = te.Code, te.RequestId, errors.New(te.Message)
	switch te.Code {
	case "ClientError.NetworkError":
		// The SDK flattens the transport error to a string: recover the
		// context's verdict (deadline: retry; cancelled: stop).
		if cerr := ctx.Err(); cerr != nil {
			ce.Err = fmt.Errorf("%s: %w", te.Message, cerr)
			ce.Retryable = errors.Is(cerr, context.DeadlineExceeded)
		} else {
			ce.Retryable = true
		}
	case "ClientError.HttpStatusCodeError":
		ce.Err = fmt.Errorf("http status %d", status)
		ce.Retryable = providers.TransientHTTP(status, nil)
	default:
		ce.Retryable = retryableCode(te.Code)
	}
	return ce
}

// instance returns our instance id (config or metadata, kept).
func (p *Provider) instance(ctx context.Context) (string, error) {
	return p.instanceID.Get(ctx, func(ctx context.Context) (string, error) {
		id, err := p.md.Get(ctx, "instance-id")
		if err != nil {
			return "", fmt.Errorf("tencent: instance id: %w", err)
		}
		return id, nil
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
