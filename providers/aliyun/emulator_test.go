package aliyun

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vipd/vipd/providers/cloudtest"
)

// fakeCloud is a stateful emulator of the few VPC and ECS RPC actions the
// provider uses: enough state that Verify sees what Acquire wrote.
//
// Each behaviour follows the API reference (alibabacloud.com/help/en/…):
//   - ECS DescribeNetworkInterfaces (ecs/developer-reference/
//     api-ecs-2014-05-26-describenetworkinterfaces): VpcId, VSwitchId,
//     PrivateIpAddress.N and NetworkInterfaceId.N filter exactly; paged by
//     MaxResults/NextToken when either is sent, else by PageNumber/PageSize
//     (PageSize default 10).
//   - VPC AssociateHaVip (vpc/developer-reference/api-vpc-2016-04-28-associatehavip):
//     asynchronous: the HAVIP is "Associating" until the task ends ("InUse");
//     meanwhile AssociateHaVip answers IncorrectHaVipStatus. InstanceType
//     EcsInstance or NetworkInterface: an association by ENI lists the ENI
//     id in AssociatedInstances.
//   - VPC CreateRouteEntry of an existing destination: InvalidCIDRBlock.Duplicate;
//     entries are Pending after a write (ModifyRouteEntry, CreateRouteEntry).
//   - Errors carry Code, Message and RequestId; SignatureDoesNotMatch's
//     Message holds the server's string to sign, which contains the
//     AccessKeyId and the SecurityToken.
type fakeCloud struct {
	mu     sync.Mutex
	n      int
	havip  fakeHaVip
	routes map[string]*fakeRoute // by destination CIDR (one route table)
	enis   map[string][]string   // ENI id -> secondary private IPs
	eniNet map[string][2]string  // ENI id -> VPC, vSwitch (default vpc-1, vsw-1)
	// associating is how many DescribeHaVips reads an AssociateHaVip stays
	// "Associating" before the association shows.
	associating int
	// routeStatus is the Status of entries after a write ("" = Available).
	routeStatus string
}

type fakeHaVip struct {
	id, master string
	associated []string
	assocType  string // AssociatedInstanceType: EcsInstance | NetworkInterface
	pending    string // id being associated ("" none)
	left       int    // reads before pending shows
}

type fakeRoute struct {
	id, table, hopType, hopID, status string
}

func newFakeCloud() *fakeCloud {
	// Both nodes' ENIs exist (in vpc-1 / vsw-1) whatever addresses they hold.
	return &fakeCloud{routes: map[string]*fakeRoute{}, enis: map[string][]string{},
		eniNet: map[string][2]string{ourENI: {"vpc-1", "vsw-1"}, peerENI: {"vpc-1", "vsw-1"}}}
}

func (f *fakeCloud) net(eni string) (vpc, vsw string) {
	if n, ok := f.eniNet[eni]; ok {
		return n[0], n[1]
	}
	return "vpc-1", "vsw-1"
}

func (f *fakeCloud) reqID() string {
	f.n++
	return fmt.Sprintf("REQ-%04d", f.n)
}

func jsonResp(status int, v map[string]any) cloudtest.Response {
	b, _ := json.Marshal(v)
	return cloudtest.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// aliErr is an Aliyun RPC error body.
func aliErr(status int, code, reqID string) cloudtest.Response {
	return jsonResp(status, map[string]any{"Code": code, "Message": code + " (emulated)", "RequestId": reqID})
}

func (f *fakeCloud) handle(r cloudtest.Request) cloudtest.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.reqID()
	p := r.Params
	ok := func(extra map[string]any) cloudtest.Response {
		m := map[string]any{"RequestId": id}
		for k, v := range extra {
			m[k] = v
		}
		return jsonResp(200, m)
	}
	switch r.Action {
	case "DescribeHaVips":
		var list []any
		if p["Filter.1.Key"] == "HaVipId" && p["Filter.1.Value.1"] == f.havip.id && f.havip.id != "" {
			status := "InUse"
			if f.havip.pending != "" {
				if f.havip.left--; f.havip.left <= 0 {
					f.havip.associated = append(f.havip.associated, f.havip.pending)
					f.havip.pending = ""
				} else {
					status = "Associating"
				}
			}
			list = append(list, map[string]any{
				"HaVipId": f.havip.id, "MasterInstanceId": f.havip.master, "Status": status,
				"AssociatedInstanceType": f.havip.assocType,
				"AssociatedInstances":    map[string]any{"associatedInstance": f.havip.associated},
			})
		}
		return ok(map[string]any{"HaVips": map[string]any{"HaVip": list}, "TotalCount": len(list)})
	case "AssociateHaVip":
		if p["HaVipId"] != f.havip.id {
			return aliErr(404, "InvalidHaVipId.NotFound", id)
		}
		if f.havip.pending != "" {
			return aliErr(400, "IncorrectHaVipStatus", id)
		}
		f.havip.assocType = "EcsInstance"
		if p["InstanceType"] == "NetworkInterface" {
			f.havip.assocType = "NetworkInterface"
		}
		if f.associating > 0 {
			f.havip.pending, f.havip.left = p["InstanceId"], f.associating
			return ok(nil)
		}
		f.havip.associated = append(f.havip.associated, p["InstanceId"])
		return ok(nil)
	case "DescribeRouteEntryList":
		var list []any
		if e := f.routes[p["DestinationCidrBlock"]]; e != nil && e.table == p["RouteTableId"] {
			entry := map[string]any{
				"RouteEntryId": e.id, "RouteTableId": e.table, "DestinationCidrBlock": p["DestinationCidrBlock"],
				"Status": e.status, "Type": "Custom",
				"NextHops": map[string]any{"NextHop": []any{map[string]any{"NextHopType": e.hopType, "NextHopId": e.hopID}}},
			}
			list = append(list, entry)
			if e.status != "Available" {
				e.status = "Available" // pending for exactly one read
			}
		}
		return ok(map[string]any{"RouteEntrys": map[string]any{"RouteEntry": list}})
	case "ModifyRouteEntry":
		for _, e := range f.routes {
			if e.id == p["RouteEntryId"] {
				e.hopType, e.hopID, e.status = p["NewNextHopType"], p["NewNextHopId"], f.written()
				return ok(nil)
			}
		}
		return aliErr(404, "InvalidRouteEntryId.NotFound", id)
	case "DeleteRouteEntry":
		delete(f.routes, p["DestinationCidrBlock"])
		return ok(nil)
	case "CreateRouteEntry":
		dst := p["DestinationCidrBlock"]
		if f.routes[dst] != nil {
			return aliErr(400, "InvalidCIDRBlock.Duplicate", id)
		}
		f.routes[dst] = &fakeRoute{id: "rte-" + id, table: p["RouteTableId"], hopType: p["NextHopType"], hopID: p["NextHopId"], status: f.written()}
		return ok(map[string]any{"RouteEntryId": "rte-" + id})
	case "DescribeNetworkInterfaces":
		var ids, ips []string
		for i := 1; p[fmt.Sprintf("NetworkInterfaceId.%d", i)] != ""; i++ {
			ids = append(ids, p[fmt.Sprintf("NetworkInterfaceId.%d", i)])
		}
		for i := 1; p[fmt.Sprintf("PrivateIpAddress.%d", i)] != ""; i++ {
			ips = append(ips, p[fmt.Sprintf("PrivateIpAddress.%d", i)])
		}
		known := map[string]bool{}
		for e := range f.enis {
			known[e] = true
		}
		for e := range f.eniNet {
			known[e] = true
		}
		var keys []string
		for e := range known {
			keys = append(keys, e)
		}
		slices.Sort(keys)
		var list []any
		for _, eni := range keys {
			vpcID, vsw := f.net(eni)
			if len(ids) > 0 && !slices.Contains(ids, eni) ||
				p["VpcId"] != "" && p["VpcId"] != vpcID ||
				p["VSwitchId"] != "" && p["VSwitchId"] != vsw ||
				len(ips) > 0 && !slices.ContainsFunc(ips, func(ip string) bool { return slices.Contains(f.enis[eni], ip) }) {
				continue
			}
			var sets []any
			for _, a := range f.enis[eni] {
				sets = append(sets, map[string]any{"PrivateIpAddress": a, "Primary": false})
			}
			list = append(list, map[string]any{"NetworkInterfaceId": eni, "VpcId": vpcID, "VSwitchId": vsw, "PrivateIpSets": map[string]any{"PrivateIpSet": sets}})
		}
		total := len(list)
		if p["MaxResults"] != "" || p["NextToken"] != "" {
			max, start := 10, 0
			if v := p["MaxResults"]; v != "" {
				_, _ = fmt.Sscan(v, &max)
			}
			if v := p["NextToken"]; v != "" {
				_, _ = fmt.Sscan(strings.TrimPrefix(v, "tok-"), &start)
			}
			if start > len(list) {
				return aliErr(400, "InvalidParameter.NextToken", id)
			}
			end := min(len(list), start+max)
			next := ""
			if end < len(list) {
				next = fmt.Sprintf("tok-%d", end)
			}
			return ok(map[string]any{"NetworkInterfaceSets": map[string]any{"NetworkInterfaceSet": list[start:end]}, "NextToken": next, "TotalCount": total})
		}
		page, size := 1, 10
		if v := p["PageNumber"]; v != "" {
			_, _ = fmt.Sscan(v, &page)
		}
		if v := p["PageSize"]; v != "" {
			_, _ = fmt.Sscan(v, &size)
		}
		start := min(len(list), (page-1)*size)
		end := min(len(list), start+size)
		return ok(map[string]any{"NetworkInterfaceSets": map[string]any{"NetworkInterfaceSet": list[start:end]}, "PageNumber": page, "PageSize": size, "TotalCount": total})
	case "UnassignPrivateIpAddresses":
		eni, ip := p["NetworkInterfaceId"], p["PrivateIpAddress.1"]
		if !slices.Contains(f.enis[eni], ip) {
			return aliErr(400, "InvalidIp.NotFound", id)
		}
		f.enis[eni] = slices.DeleteFunc(f.enis[eni], func(a string) bool { return a == ip })
		return ok(nil)
	case "AssignPrivateIpAddresses":
		eni, ip := p["NetworkInterfaceId"], p["PrivateIpAddress.1"]
		vpcID, _ := f.net(eni)
		for other, ips := range f.enis {
			if v, _ := f.net(other); v == vpcID && slices.Contains(ips, ip) {
				return aliErr(400, "InvalidOperation.IpAlreadyAssigned", id)
			}
		}
		f.enis[eni] = append(f.enis[eni], ip)
		return ok(map[string]any{"AssignedPrivateIpAddressesSet": map[string]any{"NetworkInterfaceId": eni}})
	}
	return aliErr(400, "InvalidAction.NotFound", id)
}

func (f *fakeCloud) written() string {
	if f.routeStatus != "" {
		return f.routeStatus
	}
	return "Available"
}

// newMetadata serves the ECS metadata paths the provider reads. With
// hardened set, it answers only requests carrying a token from
// PUT /latest/api/token (Aliyun's hardened mode).
func newMetadata(t *testing.T, values map[string]string, hardened bool) *httptest.Server {
	t.Helper()
	const token = "tok-123"
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/latest/api/token" {
			if r.Method != http.MethodPut || r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds") == "" {
				http.Error(w, "bad token request", http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(token))
			return
		}
		if hardened && r.Header.Get("X-aliyun-ecs-metadata-token") != token {
			http.Error(w, "token required", http.StatusForbidden)
			return
		}
		v, ok := values[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	}))
	t.Cleanup(s.Close)
	return s
}
