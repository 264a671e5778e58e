package aws

import (
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vipd/vipd/providers"
)

// TestCodeTables checks every code of the tables, as EC2 sends it: an HTTP
// 4xx/5xx answer (the status EC2 uses for it) carrying the code. The code
// decides, not the status.
func TestCodeTables(t *testing.T) {
	check := func(t *testing.T, code string, status int, want bool) {
		t.Helper()
		err := &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
			},
			RequestID: "req-1",
		}
		got := callError("AssignPrivateIpAddresses", err)
		var ce *providers.CallError
		if !errors.As(got, &ce) || ce.Code != code || ce.RequestID != "req-1" || ce.HTTPCode != status {
			t.Fatalf("callError = %#v, want code %s, request id, status %d", got, code, status)
		}
		if ce.Retryable != want {
			t.Errorf("%s (HTTP %d): retryable = %v, want %v", code, status, ce.Retryable, want)
		}
	}
	for code := range authCodes {
		t.Run(code, func(t *testing.T) { check(t, code, http.StatusForbidden, false) })
	}
	for code := range finalCodes {
		t.Run(code, func(t *testing.T) { check(t, code, http.StatusBadRequest, false) })
	}
	for code := range transientCodes {
		status := http.StatusBadRequest // races and RequestLimitExceeded are client errors
		if code == "InternalError" || code == "InternalFailure" || code == "ServiceUnavailable" || code == "Unavailable" {
			status = http.StatusServiceUnavailable
		}
		t.Run(code, func(t *testing.T) { check(t, code, status, true) })
	}
	for code := range authCodes {
		if transientCodes[code] || finalCodes[code] {
			t.Errorf("%s is in two tables", code)
		}
	}
	for code := range transientCodes {
		if finalCodes[code] {
			t.Errorf("%s is in two tables", code)
		}
	}
}
