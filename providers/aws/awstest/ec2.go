package awstest

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipd/vipd/providers/cloudtest"
)

// Test credentials the fake accepts by default. Use them through the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or a static
// credentials provider.
const (
	AccessKeyID     = "AKIDVIPDTEST"
	SecretAccessKey = "vipd-test-secret"
)

// Write actions: the ones that change state.
var writeActions = []string{"AssignPrivateIpAddresses", "CreateRoute", "ReplaceRoute", "AssociateAddress"}

// ENI is one elastic network interface.
type ENI struct {
	ID         string
	InstanceID string
	MAC        string
	PrimaryIP  string
	Secondary  []string // secondary private IPv4 addresses
	// VPCID and SubnetID place the ENI (default vpc-1 / subnet-1). Private
	// addresses are unique within a VPC only: another VPC may reuse them.
	VPCID, SubnetID string
}

// Route is one route of a route table; Target is the ENI id it points at.
type Route struct {
	Destination string // e.g. 192.0.2.100/32
	Target      string // ENI id
}

// Address is one Elastic IP.
type Address struct {
	AllocationID  string
	PublicIP      string
	AssociationID string // empty when not associated
	ENI           string
	PrivateIP     string
}

// EC2 is the fake EC2 endpoint. Create it with NewServer or NewServerListener.
type EC2 struct {
	// Server records every request; use its FailNext to inject errors and
	// SetLatency to slow answers down.
	*cloudtest.Server

	url   string
	extra *http.Server // serves on a caller-chosen address, nil otherwise
	once  sync.Once

	mu     sync.Mutex
	seq    int
	enis   map[string]*ENI
	tables map[string][]Route
	addrs  map[string]*Address
	writes map[string]int
	log    []Write
	keys   map[string]string // access key id → secret
	tokens map[string]string // access key id → session token (assumed roles)

	maxPage      int             // DescribeNetworkInterfaces: most items per page (0: MaxResults)
	unpagedLimit int             // unpaged, unscoped DescribeNetworkInterfaces fails above this many ENIs
	remapDelay   int             // reassignments take effect after this many DescribeNetworkInterfaces calls
	loseRemaps   int             // the next n reassignments are accepted and never applied
	pending      []*pendingRemap // accepted reassignments not applied yet
	denied       map[string]bool // actions the caller's policy does not allow
}

// pendingRemap is an accepted AssignPrivateIpAddresses reassignment that
// has not taken effect yet ("Remapping an IP address is an asynchronous
// operation", API_AssignPrivateIpAddresses).
type pendingRemap struct {
	eni, ip string
	left    int // describes before it applies; <0: never (lost)
}

// NewServer starts a fake EC2 endpoint listening on addr (host:port; ""
// picks a free loopback port). Close it when done.
func NewServer(addr string) (*EC2, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("awstest: listen %s: %w", addr, err)
	}
	return NewServerListener(l), nil
}

// hostHeader carries the request's Host to the handler: cloudtest records
// headers only, and SigV4 signs the host.
const hostHeader = "X-Awstest-Host"

// NewServerListener starts a fake EC2 endpoint serving on l, e.g. a listener
// opened inside a network namespace. Close closes l. Clients may reach it
// under any address (the signature check uses the Host they sent).
func NewServerListener(l net.Listener) *EC2 {
	s := newEC2()
	inner := s.Config.Handler
	s.extra = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(hostHeader, r.Host)
		inner.ServeHTTP(w, r)
	})}
	s.url = "http://" + l.Addr().String()
	go func() { _ = s.extra.Serve(l) }() // owned by s; ends on Close
	return s
}

func newEC2() *EC2 {
	s := &EC2{
		enis:   map[string]*ENI{},
		tables: map[string][]Route{},
		addrs:  map[string]*Address{},
		writes: map[string]int{},
		keys:   map[string]string{AccessKeyID: SecretAccessKey},
		tokens: map[string]string{},
		denied: map[string]bool{},
		// The reference gives no number for "a large number of network
		// interfaces"; 1000 is one MaxResults page.
		unpagedLimit: 1000,
	}
	s.Server = cloudtest.New(cloudtest.ActionParam, s.handle)
	return s
}

// URL is the base URL to use as the EC2 endpoint.
func (s *EC2) URL() string { return s.url }

// Close stops the server. It is safe to call more than once.
func (s *EC2) Close() {
	s.once.Do(func() {
		if s.extra != nil {
			_ = s.extra.Close()
		}
		s.Server.Close()
	})
}

// SetCredentials sets the only access key and secret requests may be
// signed with (default AccessKeyID / SecretAccessKey). An empty secret only
// checks the access key id in the Authorization header. Credentials handed
// out by AssumeRole later are accepted too.
func (s *EC2) SetCredentials(keyID, secret string) {
	s.mu.Lock()
	s.keys = map[string]string{keyID: secret}
	s.mu.Unlock()
}

// Assumed-role credentials the fake STS AssumeRole hands out.
const (
	AssumedAccessKeyID     = "ASIAVIPDASSUMED"
	AssumedSecretAccessKey = "vipd-assumed-secret"
	AssumedSessionToken    = "vipd-assumed-session"
)

// AddENI adds or replaces a network interface.
func (s *EC2) AddENI(e ENI) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Secondary = slices.Clone(e.Secondary)
	if e.VPCID == "" {
		e.VPCID = "vpc-1"
	}
	if e.SubnetID == "" {
		e.SubnetID = "subnet-1"
	}
	s.enis[e.ID] = &e
}

// SetMaxPage makes DescribeNetworkInterfaces return at most n items per
// page even when MaxResults asks for more (the reference allows fewer
// items than MaxResults; callers must follow NextToken). 0: MaxResults.
func (s *EC2) SetMaxPage(n int) {
	s.mu.Lock()
	s.maxPage = n
	s.mu.Unlock()
}

// SetUnpagedLimit sets how many ENIs the account may have before an
// unpaginated DescribeNetworkInterfaces without a scoping filter fails
// (API_DescribeNetworkInterfaces: "If you have a large number of network
// interfaces, the operation fails unless you use pagination or one of the
// following filters: group-id, mac-address, private-dns-name,
// private-ip-address, subnet-id, or vpc-id"). Default 1000.
func (s *EC2) SetUnpagedLimit(n int) {
	s.mu.Lock()
	s.unpagedLimit = n
	s.mu.Unlock()
}

// SetRemapDelay makes every reassignment of a secondary address
// (AssignPrivateIpAddresses with AllowReassignment moving it from another
// ENI) take effect only after n further DescribeNetworkInterfaces calls:
// "Remapping an IP address is an asynchronous operation"
// (API_AssignPrivateIpAddresses).
func (s *EC2) SetRemapDelay(n int) {
	s.mu.Lock()
	s.remapDelay = n
	s.mu.Unlock()
}

// LoseNextRemaps makes the next n reassignments succeed at the API and never
// take effect: an asynchronous remap that failed after the call returned.
func (s *EC2) LoseNextRemaps(n int) {
	s.mu.Lock()
	s.loseRemaps = n
	s.mu.Unlock()
}

// Deny makes action fail with UnauthorizedOperation (HTTP 403), with and
// without DryRun, as for a caller whose IAM policy lacks ec2:<action>.
func (s *EC2) Deny(action string) {
	s.mu.Lock()
	s.denied[action] = true
	s.mu.Unlock()
}

// AddRouteTable adds or replaces a route table.
func (s *EC2) AddRouteTable(id string, routes ...Route) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[id] = slices.Clone(routes)
}

// AddAddress adds or replaces an Elastic IP.
func (s *EC2) AddAddress(a Address) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs[a.AllocationID] = &a
}

// ENI returns a copy of the interface id.
func (s *EC2) ENI(id string) (ENI, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.enis[id]
	if !ok {
		return ENI{}, false
	}
	c := *e
	c.Secondary = slices.Clone(e.Secondary)
	return c, true
}

// RouteTable returns a copy of the routes of table id.
func (s *EC2) RouteTable(id string) ([]Route, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tables[id]
	return slices.Clone(r), ok
}

// Address returns a copy of the Elastic IP allocationID.
func (s *EC2) Address(allocationID string) (Address, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.addrs[allocationID]
	if !ok {
		return Address{}, false
	}
	return *a, true
}

// Holder returns the ENI that holds the private IPv4 ip ("" if none).
func (s *EC2) Holder(ip string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holder(ip)
}

// HolderIn returns the ENI of VPC vpc that holds the private IPv4 ip.
func (s *EC2) HolderIn(vpc, ip string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holderIn(vpc, ip)
}

// holder returns the first ENI (by id) of any VPC that holds ip.
func (s *EC2) holder(ip string) string { return s.holderIn("", ip) }

func (s *EC2) holderIn(vpc, ip string) string {
	for _, id := range sortedKeys(s.enis) {
		e := s.enis[id]
		if vpc != "" && e.VPCID != vpc {
			continue
		}
		if e.PrimaryIP == ip || slices.Contains(e.Secondary, ip) {
			return id
		}
	}
	return ""
}

// Writes returns how many write calls of action succeeded (were applied).
func (s *EC2) Writes(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[action]
}

// TotalWrites returns how many write calls of any action succeeded.
func (s *EC2) TotalWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.writes {
		n += v
	}
	return n
}

// Write is one applied write call.
type Write struct {
	At        time.Time
	Action    string
	RequestID string
	ENI       string // NetworkInterfaceId the write pointed the VIP at
	Target    string // the private IP, route table or allocation id written
}

// WriteLog returns every applied write call, in order.
func (s *EC2) WriteLog() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// IsWrite reports whether action changes state.
func IsWrite(action string) bool { return slices.Contains(writeActions, action) }

// ErrorResponse builds an EC2 query-API error answer, for FailNext.
func ErrorResponse(status int, code, message, requestID string) cloudtest.Response {
	b, _ := xml.Marshal(errorBody{Code: code, Message: message, RequestID: requestID})
	return cloudtest.Response{Status: status, Header: http.Header{"Content-Type": {"text/xml"}}, Body: append([]byte(xml.Header), b...)}
}

// Throttle makes the next n calls of action fail with HTTP 503
// RequestLimitExceeded and request ids "throttled-1", "throttled-2", ….
func (s *EC2) Throttle(action string, n int) {
	for i := 1; i <= n; i++ {
		s.FailNext(action, 1, ErrorResponse(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.", "throttled-"+strconv.Itoa(i)))
	}
}

type errorBody struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

type assumeRoleResponse struct {
	XMLName     xml.Name `xml:"AssumeRoleResponse"`
	AccessKeyID string   `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
	Secret      string   `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
	Token       string   `xml:"AssumeRoleResult>Credentials>SessionToken"`
	Expiration  string   `xml:"AssumeRoleResult>Credentials>Expiration"`
	ARN         string   `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	RoleID      string   `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
	RequestID   string   `xml:"ResponseMetadata>RequestId"`
}

type apiError struct {
	status  int
	code    string
	message string
}

func (s *EC2) handle(r cloudtest.Request) cloudtest.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	reqID := fmt.Sprintf("req-%04d", s.seq)
	if r.Method != http.MethodPost || r.Path != "/" {
		return ErrorResponse(http.StatusBadRequest, "InvalidAction", "only POST / is served", reqID)
	}
	if e := s.checkAuth(r); e != nil {
		return ErrorResponse(e.status, e.code, e.message, reqID)
	}
	// DryRun (every action's common parameter): "Checks whether you have
	// the required permissions for the action, without actually making the
	// request, and provides an error response. If you have the required
	// permissions, the error response is DryRunOperation. Otherwise, it is
	// UnauthorizedOperation." DryRunOperation is HTTP 412
	// (errors-overview.html, "Common client error codes").
	if s.denied[r.Action] {
		return ErrorResponse(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.", reqID)
	}
	if r.Params["DryRun"] == "true" {
		return ErrorResponse(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", reqID)
	}
	var body any
	var e *apiError
	switch r.Action {
	case "DescribeNetworkInterfaces":
		body, e = s.describeNetworkInterfaces(r.Params)
	case "AssignPrivateIpAddresses":
		body, e = s.assignPrivateIPs(r.Params)
	case "DescribeRouteTables":
		body, e = s.describeRouteTables(r.Params)
	case "CreateRoute", "ReplaceRoute":
		body, e = s.putRoute(r.Action, r.Params)
	case "DescribeAddresses":
		body, e = s.describeAddresses(r.Params)
	case "AssociateAddress":
		body, e = s.associateAddress(r.Params)
	case "AssumeRole": // STS, same query protocol: point STSEndpoint here
		if r.Params["RoleArn"] == "" || r.Params["RoleSessionName"] == "" {
			return ErrorResponse(http.StatusBadRequest, "MissingParameter", "RoleArn and RoleSessionName are required", reqID)
		}
		s.keys[AssumedAccessKeyID] = AssumedSecretAccessKey
		s.tokens[AssumedAccessKeyID] = AssumedSessionToken
		b, _ := xml.Marshal(assumeRoleResponse{
			AccessKeyID: AssumedAccessKeyID, Secret: AssumedSecretAccessKey, Token: AssumedSessionToken,
			Expiration: time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			ARN:        r.Params["RoleArn"] + "/" + r.Params["RoleSessionName"], RoleID: "AROAVIPD:" + r.Params["RoleSessionName"], RequestID: reqID,
		})
		return cloudtest.Response{Header: http.Header{"Content-Type": {"text/xml"}}, Body: append([]byte(xml.Header), b...)}
	default:
		e = &apiError{http.StatusBadRequest, "InvalidAction", "the action " + r.Action + " is not valid for this web service"}
	}
	if e != nil {
		return ErrorResponse(e.status, e.code, e.message, reqID)
	}
	if IsWrite(r.Action) {
		s.writes[r.Action]++
		target := r.Params["PrivateIpAddress.1"]
		if r.Action != "AssignPrivateIpAddresses" {
			target = firstOf(r.Params["RouteTableId"], r.Params["AllocationId"])
		}
		s.log = append(s.log, Write{At: time.Now(), Action: r.Action, RequestID: reqID, ENI: r.Params["NetworkInterfaceId"], Target: target})
	}
	b, err := xml.Marshal(body)
	if err != nil {
		return ErrorResponse(http.StatusInternalServerError, "InternalError", err.Error(), reqID)
	}
	// Every response element carries <requestId> as its first child.
	out := strings.Replace(string(b), ">", `><requestId>`+reqID+`</requestId>`, 1)
	return cloudtest.Response{Header: http.Header{"Content-Type": {"text/xml;charset=UTF-8"}}, Body: []byte(xml.Header + out)}
}

// list reads a flattened query list: prefix.1, prefix.2, ….
func list(p map[string]string, prefix string) []string {
	var out []string
	for i := 1; i < 1000; i++ {
		v, ok := p[prefix+"."+strconv.Itoa(i)]
		if !ok {
			break
		}
		out = append(out, v)
	}
	return out
}

// filters reads Filter.N.Name / Filter.N.Value.M.
func filters(p map[string]string) map[string][]string {
	out := map[string][]string{}
	for i := 1; i < 100; i++ {
		name, ok := p["Filter."+strconv.Itoa(i)+".Name"]
		if !ok {
			break
		}
		out[name] = list(p, "Filter."+strconv.Itoa(i)+".Value")
	}
	return out
}

func notFound(code, what string) *apiError {
	return &apiError{http.StatusBadRequest, code, "The " + what + " does not exist"}
}

// --- network interfaces ---

type eniXML struct {
	ID         string      `xml:"networkInterfaceId"`
	MAC        string      `xml:"macAddress"`
	PrivateIP  string      `xml:"privateIpAddress"`
	Status     string      `xml:"status"`
	VPCID      string      `xml:"vpcId"`
	SubnetID   string      `xml:"subnetId"`
	InstanceID string      `xml:"attachment>instanceId,omitempty"`
	IPs        []privIPXML `xml:"privateIpAddressesSet>item"`
}

type privIPXML struct {
	IP      string `xml:"privateIpAddress"`
	Primary bool   `xml:"primary"`
}

type describeENIsResponse struct {
	XMLName   xml.Name `xml:"DescribeNetworkInterfacesResponse"`
	ENIs      []eniXML `xml:"networkInterfaceSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

// scopingFilters are the filters that let an unpaginated
// DescribeNetworkInterfaces succeed with many ENIs
// (API_DescribeNetworkInterfaces). addresses.private-ip-address, which
// matches secondary addresses too, is not one of them.
var scopingFilters = []string{"group-id", "mac-address", "private-dns-name", "private-ip-address", "subnet-id", "vpc-id"}

// describeNetworkInterfaces follows
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html:
// Filter.N (exact values, OR within a filter, AND across filters),
// NetworkInterfaceId.N, MaxResults (5..1000, not with NetworkInterfaceId:
// InvalidParameterCombination) and NextToken.
func (s *EC2) describeNetworkInterfaces(p map[string]string) (any, *apiError) {
	s.tickRemaps()
	ids := list(p, "NetworkInterfaceId")
	f := filters(p)
	for name := range f {
		switch name {
		case "addresses.private-ip-address", "private-ip-address", "network-interface-id", "attachment.instance-id", "vpc-id", "subnet-id":
		default:
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", "The filter '" + name + "' is invalid"}
		}
	}
	max := 0
	if v, ok := p["MaxResults"]; ok {
		if len(ids) > 0 {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterCombination", "The parameter NetworkInterfaceIds cannot be used with the parameter maxResults"}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", "Value ( " + v + " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."}
		}
		max = n
	}
	for _, id := range ids {
		if s.enis[id] == nil {
			return nil, notFound("InvalidNetworkInterfaceID.NotFound", "network interface '"+id+"'")
		}
	}
	scoped := len(ids) > 0 || slices.ContainsFunc(scopingFilters, func(n string) bool { _, ok := f[n]; return ok })
	if max == 0 && !scoped && len(s.enis) > s.unpagedLimit {
		// The reference says the call "fails" without naming the code.
		return nil, &apiError{http.StatusBadRequest, "UnsupportedOperation", "too many network interfaces for an unpaginated request: use MaxResults or a subnet-id / vpc-id filter"}
	}
	match := func(vals []string, v string) bool { return slices.Contains(vals, v) }
	var all []eniXML
	for _, id := range sortedKeys(s.enis) {
		e := s.enis[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if v, ok := f["network-interface-id"]; ok && !match(v, id) {
			continue
		}
		if v, ok := f["attachment.instance-id"]; ok && !match(v, e.InstanceID) {
			continue
		}
		if v, ok := f["vpc-id"]; ok && !match(v, e.VPCID) {
			continue
		}
		if v, ok := f["subnet-id"]; ok && !match(v, e.SubnetID) {
			continue
		}
		if v, ok := f["private-ip-address"]; ok && !match(v, e.PrimaryIP) {
			continue
		}
		if v, ok := f["addresses.private-ip-address"]; ok && !slices.ContainsFunc(v, func(ip string) bool {
			return ip == e.PrimaryIP || slices.Contains(e.Secondary, ip)
		}) {
			continue
		}
		x := eniXML{ID: e.ID, MAC: e.MAC, PrivateIP: e.PrimaryIP, Status: "in-use", VPCID: e.VPCID, SubnetID: e.SubnetID, InstanceID: e.InstanceID}
		x.IPs = append(x.IPs, privIPXML{IP: e.PrimaryIP, Primary: true})
		for _, ip := range e.Secondary {
			x.IPs = append(x.IPs, privIPXML{IP: ip})
		}
		all = append(all, x)
	}
	resp := describeENIsResponse{ENIs: []eniXML{}}
	start := 0
	if tok := p["NextToken"]; tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || n < 0 || n > len(all) {
			return nil, &apiError{http.StatusBadRequest, "InvalidNextToken", "The token '" + tok + "' is invalid"}
		}
		start = n
	}
	size := len(all) - start
	if max > 0 && size > max {
		size = max
	}
	if max > 0 && s.maxPage > 0 && size > s.maxPage {
		size = s.maxPage
	}
	resp.ENIs = append(resp.ENIs, all[start:start+size]...)
	if start+size < len(all) {
		resp.NextToken = "page-" + strconv.Itoa(start+size)
	}
	return resp, nil
}

// tickRemaps counts one DescribeNetworkInterfaces against every pending
// reassignment and applies those that are due. Caller holds s.mu.
func (s *EC2) tickRemaps() {
	keep := s.pending[:0]
	for _, r := range s.pending {
		if r.left < 0 {
			continue // lost: never applies
		}
		if r.left--; r.left > 0 {
			keep = append(keep, r)
			continue
		}
		if e := s.enis[r.eni]; e != nil {
			s.move(e, r.ip)
		}
	}
	s.pending = keep
}

// move takes ip from its holder in e's VPC and gives it to e.
func (s *EC2) move(e *ENI, ip string) {
	if h := s.holderIn(e.VPCID, ip); h != "" && h != e.ID {
		o := s.enis[h]
		o.Secondary = slices.DeleteFunc(o.Secondary, func(x string) bool { return x == ip })
	}
	if !slices.Contains(e.Secondary, ip) && e.PrimaryIP != ip {
		e.Secondary = append(e.Secondary, ip)
	}
}

type assignResponse struct {
	XMLName  xml.Name    `xml:"AssignPrivateIpAddressesResponse"`
	ENI      string      `xml:"networkInterfaceId"`
	Assigned []privIPXML `xml:"assignedPrivateIpAddressesSet>item"`
}

func (s *EC2) assignPrivateIPs(p map[string]string) (any, *apiError) {
	id := p["NetworkInterfaceId"]
	e := s.enis[id]
	if e == nil {
		return nil, notFound("InvalidNetworkInterfaceID.NotFound", "network interface '"+id+"'")
	}
	ips := list(p, "PrivateIpAddress")
	if len(ips) == 0 {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "PrivateIpAddress is required"}
	}
	reassign := p["AllowReassignment"] == "true"
	for _, ip := range ips {
		if h := s.holderIn(e.VPCID, ip); h != "" && h != id && !reassign {
			return nil, &apiError{http.StatusBadRequest, "PrivateIpAddressInUse", "Address " + ip + " is in use by " + h}
		}
	}
	resp := assignResponse{ENI: id}
	for _, ip := range ips {
		h := s.holderIn(e.VPCID, ip)
		if h != "" && h != id && s.enis[h].PrimaryIP == ip {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", ip + " is the primary address of " + h}
		}
		resp.Assigned = append(resp.Assigned, privIPXML{IP: ip})
		switch {
		case h == "" || h == id:
			s.move(e, ip)
		case s.loseRemaps > 0:
			s.loseRemaps--
			s.pending = append(s.pending, &pendingRemap{eni: id, ip: ip, left: -1})
		case s.remapDelay > 0:
			s.pending = append(s.pending, &pendingRemap{eni: id, ip: ip, left: s.remapDelay})
		default:
			s.move(e, ip)
		}
	}
	return resp, nil
}

// --- route tables ---

type routeXML struct {
	Destination string `xml:"destinationCidrBlock"`
	ENI         string `xml:"networkInterfaceId,omitempty"`
	InstanceID  string `xml:"instanceId,omitempty"`
	Origin      string `xml:"origin"`
	State       string `xml:"state"`
}

type routeTableXML struct {
	ID     string     `xml:"routeTableId"`
	Routes []routeXML `xml:"routeSet>item"`
}

type describeRouteTablesResponse struct {
	XMLName xml.Name        `xml:"DescribeRouteTablesResponse"`
	Tables  []routeTableXML `xml:"routeTableSet>item"`
}

func (s *EC2) describeRouteTables(p map[string]string) (any, *apiError) {
	ids := list(p, "RouteTableId")
	if len(ids) == 0 {
		ids = sortedKeys(s.tables)
	}
	resp := describeRouteTablesResponse{Tables: []routeTableXML{}}
	for _, id := range ids {
		routes, ok := s.tables[id]
		if !ok {
			return nil, notFound("InvalidRouteTableID.NotFound", "route table '"+id+"'")
		}
		t := routeTableXML{ID: id}
		for _, r := range routes {
			x := routeXML{Destination: r.Destination, ENI: r.Target, Origin: "CreateRoute", State: "active"}
			if e := s.enis[r.Target]; e != nil {
				x.InstanceID = e.InstanceID
			} else {
				x.State = "blackhole"
			}
			t.Routes = append(t.Routes, x)
		}
		resp.Tables = append(resp.Tables, t)
	}
	return resp, nil
}

type returnResponse struct {
	XMLName xml.Name
	Return  bool `xml:"return"`
}

func (s *EC2) putRoute(action string, p map[string]string) (any, *apiError) {
	id, dst, eni := p["RouteTableId"], p["DestinationCidrBlock"], p["NetworkInterfaceId"]
	routes, ok := s.tables[id]
	if !ok {
		return nil, notFound("InvalidRouteTableID.NotFound", "route table '"+id+"'")
	}
	if dst == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "DestinationCidrBlock is required"}
	}
	if s.enis[eni] == nil {
		return nil, notFound("InvalidNetworkInterfaceID.NotFound", "network interface '"+eni+"'")
	}
	i := slices.IndexFunc(routes, func(r Route) bool { return r.Destination == dst })
	switch {
	case action == "CreateRoute" && i >= 0:
		return nil, &apiError{http.StatusBadRequest, "RouteAlreadyExists", "The route identified by " + dst + " already exists."}
	case action == "ReplaceRoute" && i < 0:
		// API_ReplaceRoute names no code for this; AWS answers
		// InvalidParameterValue (checked against AWS by moto, getmoto/moto
		// PR 6425), not InvalidRoute.NotFound.
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", "There is no route defined for '" + dst + "' in the route table. Use CreateRoute instead."}
	case i >= 0:
		routes[i].Target = eni
	default:
		s.tables[id] = append(routes, Route{Destination: dst, Target: eni})
	}
	return returnResponse{XMLName: xml.Name{Local: action + "Response"}, Return: true}, nil
}

// --- Elastic IPs ---

type addressXML struct {
	PublicIP      string `xml:"publicIp"`
	AllocationID  string `xml:"allocationId"`
	Domain        string `xml:"domain"`
	AssociationID string `xml:"associationId,omitempty"`
	ENI           string `xml:"networkInterfaceId,omitempty"`
	PrivateIP     string `xml:"privateIpAddress,omitempty"`
	InstanceID    string `xml:"instanceId,omitempty"`
}

type describeAddressesResponse struct {
	XMLName   xml.Name     `xml:"DescribeAddressesResponse"`
	Addresses []addressXML `xml:"addressesSet>item"`
}

func (s *EC2) describeAddresses(p map[string]string) (any, *apiError) {
	ids := list(p, "AllocationId")
	if len(ids) == 0 {
		ids = sortedKeys(s.addrs)
	}
	resp := describeAddressesResponse{Addresses: []addressXML{}}
	for _, id := range ids {
		a := s.addrs[id]
		if a == nil {
			return nil, notFound("InvalidAllocationID.NotFound", "allocation ID '"+id+"'")
		}
		x := addressXML{PublicIP: a.PublicIP, AllocationID: a.AllocationID, Domain: "vpc", AssociationID: a.AssociationID, ENI: a.ENI, PrivateIP: a.PrivateIP}
		if e := s.enis[a.ENI]; e != nil {
			x.InstanceID = e.InstanceID
		}
		resp.Addresses = append(resp.Addresses, x)
	}
	return resp, nil
}

type associateResponse struct {
	XMLName       xml.Name `xml:"AssociateAddressResponse"`
	Return        bool     `xml:"return"`
	AssociationID string   `xml:"associationId"`
}

func (s *EC2) associateAddress(p map[string]string) (any, *apiError) {
	id, eniID, ip := p["AllocationId"], p["NetworkInterfaceId"], p["PrivateIpAddress"]
	a := s.addrs[id]
	if a == nil {
		return nil, notFound("InvalidAllocationID.NotFound", "allocation ID '"+id+"'")
	}
	e := s.enis[eniID]
	if e == nil {
		return nil, notFound("InvalidNetworkInterfaceID.NotFound", "network interface '"+eniID+"'")
	}
	if ip == "" {
		ip = e.PrimaryIP
	} else if ip != e.PrimaryIP && !slices.Contains(e.Secondary, ip) {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", ip + " is not an address of " + eniID}
	}
	if a.AssociationID != "" && p["AllowReassociation"] != "true" {
		return nil, &apiError{http.StatusBadRequest, "Resource.AlreadyAssociated", "resource " + id + " is already associated with " + a.AssociationID}
	}
	a.AssociationID = fmt.Sprintf("eipassoc-%04d", s.seq)
	a.ENI, a.PrivateIP = eniID, ip
	return associateResponse{Return: true, AssociationID: a.AssociationID}, nil
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DescribeRouteTablesResponse builds a DescribeRouteTables answer showing
// tables (ENI targets, state active), for FailNext: a read that is stale by
// the time the caller writes.
func DescribeRouteTablesResponse(tables map[string][]Route) cloudtest.Response {
	resp := describeRouteTablesResponse{Tables: []routeTableXML{}}
	for _, id := range sortedKeys(tables) {
		t := routeTableXML{ID: id}
		for _, r := range tables[id] {
			t.Routes = append(t.Routes, routeXML{Destination: r.Destination, ENI: r.Target, Origin: "CreateRoute", State: "active"})
		}
		resp.Tables = append(resp.Tables, t)
	}
	b, _ := xml.Marshal(resp)
	return cloudtest.Response{Header: http.Header{"Content-Type": {"text/xml"}}, Body: append([]byte(xml.Header), b...)}
}
