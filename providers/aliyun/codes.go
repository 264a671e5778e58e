package aliyun

import "strings"

// The code tables come from the "Error codes" sections of the API
// reference pages of the actions vipd calls (alibabacloud.com/help/en/vpc/
// developer-reference/api-vpc-2016-04-28-<action> for DescribeHaVips,
// AssociateHaVip, DescribeRouteEntryList, CreateRouteEntry,
// ModifyRouteEntry, DeleteRouteEntry; …/ecs/developer-reference/
// api-ecs-2014-05-26-<action> for DescribeNetworkInterfaces,
// AssignPrivateIpAddresses, UnassignPrivateIpAddresses) and the common
// error codes of the RPC API. The Go SDK publishes no error lists.

// transientCodes are worth another attempt: the resource is busy with
// another operation, the service is, or the state moved since it was read
// (the next attempt re-reads and decides afresh).
var transientCodes = map[string]string{
	"ServiceUnavailable":                        "common",
	"InternalError":                             "common",
	"UnknownError":                              "common",
	"SystemBusy":                                "VPC actions: the system is busy",
	"Throttling":                                "common",
	"Throttling.User":                           "common",
	"Throttling.Api":                            "common",
	"OperationConflict":                         "common: another operation on the resource",
	"Operation.Conflict":                        "common",
	"InvalidOperation.Conflict":                 "ECS ENI actions",
	"TaskConflict":                              "ECS",
	"LastTokenProcessing":                       "VPC: the previous idempotent request is still processing",
	"OperationFailed.LastTokenProcessing":       "VPC",
	"OperationFailed.IdempotentTokenProcessing": "VPC: the request with this ClientToken is still processing",
	"OperationFailed.DistibuteLock":             "VPC route and HAVIP actions (sic: the API spells it so): lock held by another operation",
	"IncorrectVpcStatus":                        "VPC: the VPC is changing",
	"IncorrectInstanceStatus":                   "AssociateHaVip, CreateRouteEntry: the instance is changing",
	"IncorrectHaVipStatus":                      "AssociateHaVip: the HAVIP is associating (asynchronous)",
	"IncorrectRouteEntryStatus":                 "ModifyRouteEntry, DeleteRouteEntry: the entry is Pending",
	"InvalidStatus.RouteEntry":                  "ModifyRouteEntry: the entry is Pending",
	"InvalidCIDRBlock.Duplicate":                "CreateRouteEntry: the entry was created since read; re-read and modify",
	"InvalidOperation.IpAlreadyAssigned":        "AssignPrivateIpAddresses: another ENI took the address since read",
	"InvalidIp.NotFound":                        "UnassignPrivateIpAddresses: the address left the ENI since read",
}

// finalCodes: credentials, permissions, configuration; also wins over a 5xx
// status.
var finalCodes = map[string]bool{
	"SignatureDoesNotMatch":                      true,
	"IncompleteSignature":                        true,
	"InvalidAccessKeyId.NotFound":                true,
	"InvalidAccessKeyId.Inactive":                true,
	"InvalidSecurityToken.Expired":               true,
	"InvalidSecurityToken.Malformed":             true,
	"InvalidSecurityToken.MismatchWithAccessKey": true,
	"Forbidden":                          true,
	"Forbidden.RAM":                      true,
	"Forbidden.SubUser":                  true,
	"InvalidParameter":                   true,
	"MissingParameter":                   true,
	"InvalidRegionId.NotFound":           true,
	"InvalidHaVipId.NotFound":            true,
	"InvalidRouteTableId.NotFound":       true,
	"InvalidRouteEntry.NotFound":         true,
	"InvalidInstanceId.NotFound":         true,
	"InvalidNetworkInterfaceId.NotFound": true,
	"InvalidCidrBlock.Conflict":          true,
	"QuotaExceeded.PrivateIpAddress":     true,
	"InvalidAction.NotFound":             true,
}

// retryableCode classifies an API error code: the tables first, then the
// families Throttling.* and IncorrectStatus.*; an unknown code is final.
func retryableCode(code string) bool {
	if _, ok := transientCodes[code]; ok {
		return true
	}
	if finalCodes[code] {
		return false
	}
	return strings.HasPrefix(code, "Throttling.") || strings.HasPrefix(code, "IncorrectStatus") ||
		strings.HasPrefix(code, "OperationConflict")
}
