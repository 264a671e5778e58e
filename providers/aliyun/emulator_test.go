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
type fakeCloud struct {
	mu     sync.Mutex
	n      int
	havip  fakeHaVip
	routes map[string]*fakeRoute // by destination CIDR (one route table)
	enis   map[string][]string   // ENI id -> secondary private IPs
	// routeStatus is the Status of entries after a write ("" = Available).
	routeStatus string
}

type fakeHaVip struct {
	id, master string
	associated []string
}

type fakeRoute struct {
	id, table, hopType, hopID, status string
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{routes: map[string]*fakeRoute{}, enis: map[string][]string{}}
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
			list = append(list, map[string]any{
				"HaVipId": f.havip.id, "MasterInstanceId": f.havip.master, "Status": "InUse",
				"AssociatedInstances": map[string]any{"associatedInstance": f.havip.associated},
			})
		}
		return ok(map[string]any{"HaVips": map[string]any{"HaVip": list}, "TotalCount": len(list)})
	case "AssociateHaVip":
		if p["HaVipId"] != f.havip.id {
			return aliErr(404, "InvalidHaVipId.NotFound", id)
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
		ip := p["PrivateIpAddress.1"]
		var list []any
		for eni, ips := range f.enis {
			if slices.Contains(ips, ip) {
				var sets []any
				for _, a := range ips {
					sets = append(sets, map[string]any{"PrivateIpAddress": a, "Primary": false})
				}
				list = append(list, map[string]any{"NetworkInterfaceId": eni, "PrivateIpSets": map[string]any{"PrivateIpSet": sets}})
			}
		}
		return ok(map[string]any{"NetworkInterfaceSets": map[string]any{"NetworkInterfaceSet": list}})
	case "UnassignPrivateIpAddresses":
		eni, ip := p["NetworkInterfaceId"], p["PrivateIpAddress.1"]
		if !slices.Contains(f.enis[eni], ip) {
			return aliErr(400, "InvalidIp.NotFound", id)
		}
		f.enis[eni] = slices.DeleteFunc(f.enis[eni], func(a string) bool { return a == ip })
		return ok(nil)
	case "AssignPrivateIpAddresses":
		eni, ip := p["NetworkInterfaceId"], p["PrivateIpAddress.1"]
		for _, ips := range f.enis {
			if slices.Contains(ips, ip) {
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
