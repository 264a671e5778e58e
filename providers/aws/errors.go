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

// Error codes that no retry can fix: credentials, permissions, account state.
var authCodes = map[string]bool{
	"AuthFailure":                true,
	"UnauthorizedOperation":      true,
	"SignatureDoesNotMatch":      true,
	"InvalidClientTokenId":       true,
	"MissingAuthenticationToken": true,
	"OptInRequired":              true,
	"Blocked":                    true,
	"AccessDenied":               true,
}

// Error codes that are races with the peer or transient in EC2: the next
// attempt re-reads the state and does the right write.
var transientCodes = map[string]bool{
	"InternalError":         true,
	"ServiceUnavailable":    true,
	"Unavailable":           true,
	"RouteAlreadyExists":    true, // CreateRoute raced with another writer
	"InvalidRoute.NotFound": true, // ReplaceRoute raced with a delete
	"IncorrectState":        true,
	"RequestExpired":        true, // clock skew or a slow call; re-signed next time
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
	if authCodes[ce.Code] {
		ce.Err = fmt.Errorf("check the credentials and that the IAM policy allows ec2:%s (see deploy/aws): %w", action, err)
	}
	return ce
}

func retryable(ce *providers.CallError, err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		return false // the agent gave up (left master or shut down)
	case authCodes[ce.Code]:
		return false
	case transientCodes[ce.Code]:
		return true
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
