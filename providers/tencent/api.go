package tencent

import (
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// The pinned SDK (v1.0.162) predates two VPC actions vipd needs:
// DescribeVpcTaskResult (polling the asynchronous MigratePrivateIpAddress)
// and AssociateHaVipInstance (the HAVIP's allowed drift range), and its HaVip
// model lacks HaVipAssociationSet / CheckAssociate. These request and
// response types follow the API 2017-03-12 documentation and are sent by the
// SDK's own client (common.Client.Send), so signing and the wire format are
// the SDK's.

const apiVersion = "2017-03-12"

type taskResultRequest struct {
	*tchttp.BaseRequest
	TaskId *string `json:"TaskId,omitempty" name:"TaskId"`
}

type taskResultResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		Status    *string `json:"Status,omitempty"` // SUCCESS | FAILED | RUNNING
		Output    *string `json:"Output,omitempty"`
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

func newTaskResultRequest(taskID string) *taskResultRequest {
	r := &taskResultRequest{BaseRequest: &tchttp.BaseRequest{}, TaskId: &taskID}
	r.Init().WithApiInfo("vpc", apiVersion, "DescribeVpcTaskResult")
	return r
}

// haVipAssociation is one entry of a HAVIP's allowed drift range.
type haVipAssociation struct {
	HaVipId      *string `json:"HaVipId,omitempty" name:"HaVipId"`
	InstanceId   *string `json:"InstanceId,omitempty" name:"InstanceId"`
	InstanceType *string `json:"InstanceType,omitempty" name:"InstanceType"` // CVM | ENI
}

type associateHaVipInstanceRequest struct {
	*tchttp.BaseRequest
	HaVipAssociationSet []*haVipAssociation `json:"HaVipAssociationSet,omitempty" name:"HaVipAssociationSet"`
}

func newAssociateHaVipInstanceRequest(a *haVipAssociation) *associateHaVipInstanceRequest {
	r := &associateHaVipInstanceRequest{BaseRequest: &tchttp.BaseRequest{}, HaVipAssociationSet: []*haVipAssociation{a}}
	r.Init().WithApiInfo("vpc", apiVersion, "AssociateHaVipInstance")
	return r
}

// plainResponse is an answer with nothing but its request id.
type plainResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		RequestId *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// haVip is the SDK's HaVip plus the fields of newer API answers.
type haVip struct {
	vpc.HaVip
	HaVipAssociationSet []*haVipAssociation `json:"HaVipAssociationSet,omitempty"`
	CheckAssociate      *bool               `json:"CheckAssociate,omitempty"`
}

type haVipsResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		HaVipSet  []*haVip `json:"HaVipSet,omitempty"`
		RequestId *string  `json:"RequestId,omitempty"`
	} `json:"Response"`
}
