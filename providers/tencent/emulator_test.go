package tencent

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

// fakeCloud is a stateful emulator of the VPC 2017-03-12 actions the
// provider uses (TC3 JSON POST, X-TC-Action): Verify sees what Acquire
// wrote; a migration takes effect when its task reports SUCCESS.
type fakeCloud struct {
	mu     sync.Mutex
	n      int
	havip  fakeHaVip
	enis   map[string]*fakeENI
	tables map[string][]*fakeRoute
	tasks  map[string]*fakeTask
	nextID uint64

	// taskRunning is how many polls a new task answers RUNNING;
	// taskFails makes it end FAILED instead of SUCCESS.
	taskRunning int
	taskFails   bool
}

type fakeHaVip struct {
	id, instance, eni string
	checkAssociate    bool
	assoc             []string // instance or ENI ids
}

type fakeENI struct {
	instance, subnet, primaryIP string
	primary                     bool
	secondary                   []string
}

type fakeRoute struct {
	id                uint64
	dst, gwType, gwID string
}

type fakeTask struct {
	running int
	fail    bool
	apply   func()
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{enis: map[string]*fakeENI{}, tables: map[string][]*fakeRoute{}, tasks: map[string]*fakeTask{}, nextID: 100}
}

func tcResp(v map[string]any) cloudtest.Response {
	b, _ := json.Marshal(map[string]any{"Response": v})
	return cloudtest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// tcErr is a Tencent API error: HTTP 200 with Response.Error.
func tcErr(code, reqID string) cloudtest.Response {
	return tcResp(map[string]any{"Error": map[string]any{"Code": code, "Message": code + " (emulated)"}, "RequestId": reqID})
}

type tcFilter struct {
	Name   string
	Values []string
}

// body is the union of the request fields the emulator reads.
type body struct {
	HaVipIds                      []string
	Filters                       []tcFilter
	NetworkInterfaceIds           []string
	NetworkInterfaceId            string
	PrivateIpAddresses            []struct{ PrivateIpAddress string }
	SourceNetworkInterfaceId      string
	DestinationNetworkInterfaceId string
	PrivateIpAddress              string
	TaskId                        string
	RouteTableIds                 []string
	RouteTableId                  string
	Routes                        []struct {
		RouteId                                      uint64
		DestinationCidrBlock, GatewayType, GatewayId string
	}
	HaVipAssociationSet []struct{ HaVipId, InstanceId, InstanceType string }
}

func (b body) filter(name string) (string, bool) {
	for _, f := range b.Filters {
		if f.Name == name && len(f.Values) > 0 {
			return f.Values[0], true
		}
	}
	return "", false
}

func (f *fakeCloud) handle(r cloudtest.Request) cloudtest.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("req-%04d", f.n)
	var b body
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return tcErr("InvalidParameter.Json", id)
	}
	ok := func(extra map[string]any) cloudtest.Response {
		m := map[string]any{"RequestId": id}
		for k, v := range extra {
			m[k] = v
		}
		return tcResp(m)
	}
	switch r.Action {
	case "DescribeHaVips":
		var set []any
		if slices.Contains(b.HaVipIds, f.havip.id) {
			var assoc []any
			for _, a := range f.havip.assoc {
				assoc = append(assoc, map[string]any{"HaVipId": f.havip.id, "InstanceId": a, "InstanceType": "CVM"})
			}
			set = append(set, map[string]any{"HaVipId": f.havip.id, "InstanceId": f.havip.instance, "NetworkInterfaceId": f.havip.eni,
				"State": "AVAILABLE", "CheckAssociate": f.havip.checkAssociate, "HaVipAssociationSet": assoc})
		}
		return ok(map[string]any{"HaVipSet": set, "TotalCount": len(set)})
	case "AssociateHaVipInstance":
		for _, a := range b.HaVipAssociationSet {
			if a.HaVipId != f.havip.id {
				return tcErr("ResourceNotFound", id)
			}
			f.havip.assoc = append(f.havip.assoc, a.InstanceId)
		}
		return ok(nil)
	case "DescribeNetworkInterfaces":
		var set []any
		for eid, e := range f.enis {
			match := len(b.NetworkInterfaceIds) == 0 || slices.Contains(b.NetworkInterfaceIds, eid)
			if v, has := b.filter("attachment.instance-id"); has && v != e.instance {
				match = false
			}
			if v, has := b.filter("is-primary"); has && (v == "true") != e.primary {
				match = false
			}
			if v, has := b.filter("address-ip"); has && !slices.Contains(e.secondary, v) && e.primaryIP != v {
				match = false
			}
			if !match {
				continue
			}
			ips := []any{map[string]any{"PrivateIpAddress": e.primaryIP, "Primary": true}}
			for _, s := range e.secondary {
				ips = append(ips, map[string]any{"PrivateIpAddress": s, "Primary": false})
			}
			set = append(set, map[string]any{"NetworkInterfaceId": eid, "SubnetId": e.subnet, "Primary": e.primary, "PrivateIpAddressSet": ips,
				"Attachment": map[string]any{"InstanceId": e.instance}})
		}
		return ok(map[string]any{"NetworkInterfaceSet": set, "TotalCount": len(set)})
	case "AssignPrivateIpAddresses":
		e := f.enis[b.NetworkInterfaceId]
		if e == nil {
			return tcErr("ResourceNotFound", id)
		}
		for _, a := range b.PrivateIpAddresses {
			e.secondary = append(e.secondary, a.PrivateIpAddress)
		}
		return ok(nil)
	case "MigratePrivateIpAddress":
		src, dst := f.enis[b.SourceNetworkInterfaceId], f.enis[b.DestinationNetworkInterfaceId]
		if src == nil || dst == nil || !slices.Contains(src.secondary, b.PrivateIpAddress) {
			return tcErr("InvalidParameterValue", id)
		}
		ip := b.PrivateIpAddress
		f.tasks[id] = &fakeTask{running: f.taskRunning, fail: f.taskFails, apply: func() {
			src.secondary = slices.DeleteFunc(src.secondary, func(a string) bool { return a == ip })
			dst.secondary = append(dst.secondary, ip)
		}}
		return ok(nil)
	case "DescribeVpcTaskResult":
		t := f.tasks[b.TaskId]
		if t == nil {
			return tcErr("ResourceNotFound", id)
		}
		switch {
		case t.running > 0:
			t.running--
			return ok(map[string]any{"Status": "RUNNING", "Output": ""})
		case t.fail:
			return ok(map[string]any{"Status": "FAILED", "Output": "ip in use (emulated)"})
		}
		if t.apply != nil {
			t.apply()
			t.apply = nil
		}
		return ok(map[string]any{"Status": "SUCCESS", "Output": "SUCCESS"})
	case "DescribeRouteTables":
		var set []any
		for _, tid := range b.RouteTableIds {
			routes, exists := f.tables[tid]
			if !exists {
				continue
			}
			var rs []any
			for _, rt := range routes {
				rs = append(rs, map[string]any{"RouteId": rt.id, "DestinationCidrBlock": rt.dst, "GatewayType": rt.gwType, "GatewayId": rt.gwID, "RouteTableId": tid})
			}
			set = append(set, map[string]any{"RouteTableId": tid, "RouteSet": rs})
		}
		return ok(map[string]any{"RouteTableSet": set, "TotalCount": len(set)})
	case "ReplaceRoutes":
		for _, nr := range b.Routes {
			found := false
			for _, rt := range f.tables[b.RouteTableId] {
				if rt.id == nr.RouteId {
					rt.dst, rt.gwType, rt.gwID, found = nr.DestinationCidrBlock, nr.GatewayType, nr.GatewayId, true
				}
			}
			if !found {
				return tcErr("ResourceNotFound.Route", id)
			}
		}
		return ok(nil)
	case "CreateRoutes":
		if _, exists := f.tables[b.RouteTableId]; !exists {
			return tcErr("ResourceNotFound", id)
		}
		for _, nr := range b.Routes {
			f.nextID++
			f.tables[b.RouteTableId] = append(f.tables[b.RouteTableId], &fakeRoute{id: f.nextID, dst: nr.DestinationCidrBlock, gwType: nr.GatewayType, gwID: nr.GatewayId})
		}
		return ok(nil)
	}
	return tcErr("InvalidAction", id)
}

// newMetadata serves CVM metadata paths; hits counts requests per path.
func newMetadata(t *testing.T, values map[string]string) (*httptest.Server, func(string) int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")
		mu.Lock()
		hits[p]++
		mu.Unlock()
		v, ok := values[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	}))
	t.Cleanup(s.Close)
	return s, func(p string) int { mu.Lock(); defer mu.Unlock(); return hits[p] }
}
