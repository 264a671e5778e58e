package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/vipd/vipd/providers"
)

// The code tables below come from the EC2 API reference's error list
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
// "Common client error codes", "Client error codes for specific actions",
// "Server error codes") for the actions vipd calls. The SDK publishes no
// typed errors for EC2 (every code arrives as a smithy.APIError).

// authCodes: credentials, permissions, account state. No retry can fix them.
var authCodes = map[string]bool{
	"AuthFailure":                true,
	"UnauthorizedOperation":      true,
	"SignatureDoesNotMatch":      true,
	"InvalidClientTokenId":       true,
	"MissingAuthenticationToken": true,
	"IncompleteSignature":        true,
	"OptInRequired":              true,
	"Blocked":                    true,
	"AccessDenied":               true,
	"PendingVerification":        true,
}

// transientCodes: server-side failures, throttling, and races with the
// peer or with EC2's eventual consistency: the next attempt re-reads the
// state and does the right write.
var transientCodes = map[string]bool{
	"InternalError":         true, // server error
	"InternalFailure":       true, // server error
	"ServiceUnavailable":    true, // server error
	"Unavailable":           true, // server error
	"RequestLimitExceeded":  true, // throttled
	"RequestExpired":        true, // clock skew or a slow call; re-signed next time
	"IncorrectState":        true, // the resource is changing (a remap in progress)
	"ConcurrentTagAccess":   true, // concurrent change of the same resource
	"RouteAlreadyExists":    true, // CreateRoute raced with another writer: re-read, replace
	"InvalidRoute.NotFound": true, // a route deleted under us: re-read, create
}

// finalCodes: the request itself is wrong for this account or config.
var finalCodes = map[string]bool{
	"InvalidParameterValue":               true,
	"InvalidParameterCombination":         true,
	"InvalidParameter":                    true,
	"MissingParameter":                    true,
	"UnknownParameter":                    true,
	"InvalidAction":                       true,
	"UnsupportedOperation":                true,
	"InvalidNetworkInterfaceID.NotFound":  true,
	"InvalidNetworkInterfaceID.Malformed": true,
	"InvalidRouteTableID.NotFound":        true,
	"InvalidRouteTableID.Malformed":       true,
	"InvalidAllocationID.NotFound":        true,
	"InvalidAddressID.NotFound":           true,
	"PrivateIpAddressLimitExceeded":       true,
	"InvalidIPAddress.InUse":              true,
	"Resource.AlreadyAssociated":          true,
	"RouteLimitExceeded":                  true,
	"InvalidNextToken":                    true,
}

// callError converts an SDK error into the *providers.CallError the shared
// retry loop understands.
func callError(action string, err error) error {
	ce := &providers.CallError{Provider: "aws", Action: action, Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		ce.HTTPCode = re.HTTPStatusCode()
		ce.RequestID = re.ServiceRequestID()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		ce.Code = ae.ErrorCode()
	}
	ce.Retryable = retryable(ce, err)
	switch {
	case credentialCodes[ce.Code]:
		// The server's message may name the access key or echo what was
		// signed: keep the code and request id, withhold the text.
		ce.Err = withheld{err: err, msg: fmt.Sprintf("credentials rejected (server message withheld); check the access key, session token and clock, and that the IAM policy allows ec2:%s (see deploy/aws)", action)}
	case authCodes[ce.Code]:
		ce.Err = fmt.Errorf("check the credentials and that the IAM policy allows ec2:%s (see deploy/aws): %w", action, err)
	}
	return ce
}

// credentialCodes are the auth codes about the credential itself, whose
// message is withheld.
var credentialCodes = map[string]bool{
	"AuthFailure": true, "SignatureDoesNotMatch": true, "InvalidClientTokenId": true,
	"MissingAuthenticationToken": true, "IncompleteSignature": true,
}

// withheld is an error whose text replaces the original's; it unwraps to
// the original so errors.Is/As still see the SDK error.
type withheld struct {
	err error
	msg string
}

func (w withheld) Error() string { return w.msg }
func (w withheld) Unwrap() error { return w.err }

func retryable(ce *providers.CallError, err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		return false // the agent gave up (left master or shut down)
	case authCodes[ce.Code]:
		return false
	case transientCodes[ce.Code]:
		return true
	case finalCodes[ce.Code]:
		return false
	case errors.Is(err, context.DeadlineExceeded):
		return true // this attempt's deadline, not the agent's
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary:
		return true
	case ce.HTTPCode >= 500 || ce.HTTPCode == 429:
		return true
	case ce.HTTPCode >= 400:
		return false // InvalidParameter…, …NotFound, MissingParameter: fix the config
	case strings.HasPrefix(ce.Code, "Invalid") || strings.HasPrefix(ce.Code, "Missing"):
		return false
	}
	// No HTTP answer: connection refused/reset, DNS, timeouts.
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
