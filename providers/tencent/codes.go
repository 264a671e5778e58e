package tencent

import "strings"

// The code tables come from the per-action error lists ("可能返回的错误码")
// that tencentcloud-sdk-go publishes in vpc/v20170312/client.go (v1.0.1100)
// for the actions vipd calls: DescribeNetworkInterfaces,
// AssignPrivateIpAddresses, MigratePrivateIpAddress, DescribeVpcTaskResult,
// DescribeHaVips, DescribeRouteTables, ReplaceRoutes, CreateRoutes,
// EnableRoutes; plus the common error codes of the API 3.0 reference
// (https://www.tencentcloud.com/document/api/215/15790). The pinned SDK
// (v1.0.162) has no such lists.

// transientCodes are worth another attempt: the next one re-reads the cloud
// and decides afresh.
var transientCodes = map[string]string{
	"InternalError":                                  "common: internal error",
	"InternalError.ModuleError":                      "Describe*: internal module error",
	"RequestLimitExceeded":                           "common: throttled",
	"LimitExceeded.ActionLimited":                    "AssignPrivateIpAddresses, DescribeNetworkInterfaces: 接口请求次数超过限频 (throttled)",
	"ResourceUnavailable":                            "common: resource unavailable",
	"FailedOperation.NetDetectTimeOut":               "AssignPrivateIpAddresses: 网络探测超时，请稍后重试 (retry later)",
	"ResourceInUse":                                  "AssignPrivateIpAddresses: the address is held by another ENI now; re-read and migrate",
	"UnsupportedOperation.MutexOperationTaskRunning": "AssignPrivateIpAddresses, MigratePrivateIpAddress: a mutually exclusive task is running",
	"UnsupportedOperation.IdempotentProcessing":      "AssignPrivateIpAddresses: 先前的幂等请求仍在处理中，请稍后重试 (previous request still processing)",
	"UnsupportedOperation.InvalidState":              "AssignPrivateIpAddresses: resource state not valid (changing)",
	"UnsupportedOperation.RecordNotExists":           "ReplaceRoutes: the route was deleted since read; re-read and create",
	"InvalidParameterValue.Duplicate":                "CreateRoutes, EnableRoutes: the route was created since read; re-read and replace",
}

// finalCodes: credentials, permissions, configuration. No retry fixes them.
var finalCodes = map[string]string{
	"AuthFailure":                                      "common",
	"AuthFailure.SignatureFailure":                     "common",
	"AuthFailure.SecretIdNotFound":                     "common",
	"AuthFailure.SignatureExpire":                      "common",
	"AuthFailure.TokenFailure":                         "common",
	"AuthFailure.UnauthorizedOperation":                "common",
	"UnauthorizedOperation":                            "DescribeVpcTaskResult",
	"UnauthorizedOperation.AttachmentNotFound":         "MigratePrivateIpAddress",
	"UnauthorizedOperation.PrimaryIp":                  "MigratePrivateIpAddress",
	"UnsupportedOperation":                             "all",
	"UnsupportedOperation.PrimaryIp":                   "MigratePrivateIpAddress",
	"UnsupportedOperation.ResourceMismatch":            "AssignPrivateIpAddresses",
	"UnsupportedOperation.IdempotentParameterMismatch": "AssignPrivateIpAddresses",
	"UnsupportedOperation.SystemRoute":                 "ReplaceRoutes, CreateRoutes, EnableRoutes",
	"UnsupportedOperation.Ecmp":                        "ReplaceRoutes, CreateRoutes, EnableRoutes",
	"UnsupportedOperation.ConflictWithDockerRoute":     "ReplaceRoutes, CreateRoutes, EnableRoutes",
	"InvalidParameter":                                 "common",
	"InvalidParameter.Coexist":                         "Describe*",
	"InvalidParameter.FilterInvalidKey":                "Describe*",
	"InvalidParameterValue":                            "DescribeVpcTaskResult, ReplaceRoutes, CreateRoutes",
	"InvalidParameterValue.Malformed":                  "all",
	"InvalidParameterValue.Range":                      "Describe*, AssignPrivateIpAddresses",
	"InvalidParameterValue.LimitExceeded":              "Describe*, AssignPrivateIpAddresses",
	"InvalidParameterValue.Reserved":                   "AssignPrivateIpAddresses",
	"InvalidParameterValue.DuplicatePara":              "AssignPrivateIpAddresses",
	"InvalidParameterValue.VpcCidrConflict":            "ReplaceRoutes, CreateRoutes",
	"InvalidParameterValue.RouteNextHopInvalid":        "CreateRoutes",
	"MissingParameter":                                 "AssignPrivateIpAddresses, EnableRoutes",
	"UnknownParameter.WithGuess":                       "ReplaceRoutes, CreateRoutes",
	"LimitExceeded":                                    "AssignPrivateIpAddresses, MigratePrivateIpAddress, routes",
	"ResourceInsufficient":                             "AssignPrivateIpAddresses",
	"ResourceInsufficient.Subnet":                      "AssignPrivateIpAddresses",
	"ResourceNotFound":                                 "all",
	"InvalidAction":                                    "common",
}

// retryableCode classifies an API error code: the tables first, then the
// common families (RequestLimitExceeded.*, InternalError.*: retry); an
// unknown code is final (it is logged with its request id).
func retryableCode(code string) bool {
	if _, ok := transientCodes[code]; ok {
		return true
	}
	if _, ok := finalCodes[code]; ok {
		return false
	}
	return strings.HasPrefix(code, "RequestLimitExceeded.") || strings.HasPrefix(code, "InternalError.")
}
