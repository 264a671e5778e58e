//go:build linux

package lvstest

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"

	"github.com/moby/ipvs"
)

// Kernel values the fake reproduces.
const (
	flagHashed = 0x0002 // IP_VS_SVC_F_HASHED: the kernel sets it on every service
	afInet6    = 10
)

var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

// Call is one recorded call.
type Call struct {
	Op      string // e.g. NewService, UpdateDestination
	Service string // service key, e.g. "TCP 192.0.2.1:80" or "FWM 3"
	Dest    string // destination ip:port for destination calls
}

type svcKey struct {
	fam    uint16
	proto  uint16
	addr   string
	port   uint16
	fwmark uint32
}

type fakeService struct {
	svc   ipvs.Service
	dests []ipvs.Destination
}

// Fake is an in-memory IPVS table. The zero value is not usable; call New.
// It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	services map[svcKey]*fakeService
	order    []svcKey // creation order, for dumps
	calls    []Call
	fail     map[string]error // op → error, until cleared
	failOnce map[string]error // op → error, once
}

// New returns an empty table.
func New() *Fake {
	return &Fake{services: map[svcKey]*fakeService{}, fail: map[string]error{}, failOnce: map[string]error{}}
}

// Fail makes every later call of op (e.g. "NewDestination") return err;
// a nil err clears it.
func (f *Fake) Fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fail, op)
		return
	}
	f.fail[op] = err
}

// FailNext makes the next call of op return err.
func (f *Fake) FailNext(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOnce[op] = err
}

// Calls returns the recorded calls, oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// ResetCalls forgets the recorded calls.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

func keyOf(s *ipvs.Service) svcKey {
	if s.FWMark != 0 {
		return svcKey{fam: s.AddressFamily, fwmark: s.FWMark}
	}
	return svcKey{fam: s.AddressFamily, proto: s.Protocol, addr: ipString(s.Address), port: s.Port}
}

func ipString(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.String()
}

func (k svcKey) String() string {
	if k.fwmark != 0 {
		return fmt.Sprintf("FWM %d", k.fwmark)
	}
	proto := map[uint16]string{6: "TCP", 17: "UDP", 132: "SCTP"}[k.proto]
	return fmt.Sprintf("%s %s", proto, net.JoinHostPort(k.addr, fmt.Sprint(k.port)))
}

func destString(d *ipvs.Destination) string {
	return net.JoinHostPort(ipString(d.Address), fmt.Sprint(d.Port))
}

// begin records the call and returns the injected error, if any. f.mu is held.
func (f *Fake) begin(op string, s *ipvs.Service, d *ipvs.Destination) error {
	c := Call{Op: op}
	if s != nil {
		c.Service = keyOf(s).String()
	}
	if d != nil {
		c.Dest = destString(d)
	}
	f.calls = append(f.calls, c)
	if err, ok := f.failOnce[op]; ok {
		delete(f.failOnce, op)
		return err
	}
	return f.fail[op]
}

// beginOn is begin for a call on an existing service: ESRCH without it.
func (f *Fake) beginOn(op string, s *ipvs.Service, d *ipvs.Destination) (*fakeService, error) {
	if err := f.begin(op, s, d); err != nil {
		return nil, err
	}
	fs := f.find(s)
	if fs == nil {
		return nil, syscall.ESRCH
	}
	return fs, nil
}

func (f *Fake) find(s *ipvs.Service) *fakeService {
	return f.services[keyOf(s)]
}

// checkService applies the kernel's checks of ip_vs_add/edit_service.
func checkService(s *ipvs.Service) error {
	if !slices.Contains(schedulers, s.SchedName) {
		return syscall.ENOENT // ip_vs_scheduler_get fails
	}
	if s.AddressFamily == afInet6 && (s.Netmask < 1 || s.Netmask > 128) {
		return syscall.EINVAL
	}
	return nil
}

// stored is a service as the kernel keeps and dumps it.
func stored(s *ipvs.Service) ipvs.Service {
	c := ipvs.Service{
		AddressFamily: s.AddressFamily,
		SchedName:     s.SchedName,
		Flags:         s.Flags | flagHashed,
		Timeout:       s.Timeout,
		Netmask:       s.Netmask,
		PEName:        s.PEName,
	}
	if s.FWMark != 0 {
		c.FWMark = s.FWMark // dumped without protocol, address and port
	} else {
		c.Protocol, c.Port = s.Protocol, s.Port
		c.Address = slices.Clone(s.Address)
	}
	return c
}

// GetServices dumps the table.
func (f *Fake) GetServices() ([]*ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("GetServices", nil, nil); err != nil {
		return nil, err
	}
	out := make([]*ipvs.Service, 0, len(f.services))
	for _, k := range f.order {
		s := f.services[k].svc
		s.Address = slices.Clone(s.Address)
		out = append(out, &s)
	}
	return out, nil
}

// NewService adds a service: EEXIST when present.
func (f *Fake) NewService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("NewService", s, nil); err != nil {
		return err
	}
	if f.find(s) != nil {
		return syscall.EEXIST
	}
	if err := checkService(s); err != nil {
		return err
	}
	k := keyOf(s)
	f.services[k] = &fakeService{svc: stored(s)}
	f.order = append(f.order, k)
	return nil
}

// UpdateService edits a service in place: ESRCH when missing.
func (f *Fake) UpdateService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, err := f.beginOn("UpdateService", s, nil)
	if err != nil {
		return err
	}
	if err := checkService(s); err != nil {
		return err
	}
	fs.svc = stored(s)
	return nil
}

// DelService deletes a service and its destinations: ESRCH when missing.
func (f *Fake) DelService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DelService", s, nil); err != nil {
		return err
	}
	if f.find(s) == nil {
		return syscall.ESRCH
	}
	k := keyOf(s)
	delete(f.services, k)
	f.order = slices.DeleteFunc(f.order, func(o svcKey) bool { return o == k })
	return nil
}

// GetDestinations dumps a service's destinations; as the kernel, a missing
// service gives an empty list, not an error.
func (f *Fake) GetDestinations(s *ipvs.Service) ([]*ipvs.Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("GetDestinations", s, nil); err != nil {
		return nil, err
	}
	fs := f.find(s)
	if fs == nil {
		return nil, nil
	}
	out := make([]*ipvs.Destination, 0, len(fs.dests))
	for _, d := range fs.dests {
		d.Address = slices.Clone(d.Address)
		out = append(out, &d)
	}
	return out, nil
}

func findDest(fs *fakeService, d *ipvs.Destination) int {
	for i := range fs.dests {
		if fs.dests[i].Port == d.Port && fs.dests[i].Address.Equal(d.Address) {
			return i
		}
	}
	return -1
}

// checkDest applies the kernel's checks of ip_vs_add/edit_dest.
func checkDest(d *ipvs.Destination) error {
	if d.Weight < 0 || d.LowerThreshold > d.UpperThreshold {
		return syscall.ERANGE
	}
	return nil
}

func storedDest(s *ipvs.Service, d *ipvs.Destination) ipvs.Destination {
	return ipvs.Destination{
		Address:         slices.Clone(d.Address),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: d.ConnectionFlags & 0x7,
		AddressFamily:   s.AddressFamily,
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
}

// NewDestination adds a real server: ESRCH without the service, EEXIST when
// present.
func (f *Fake) NewDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, err := f.beginOn("NewDestination", s, d)
	if err != nil {
		return err
	}
	if err := checkDest(d); err != nil {
		return err
	}
	if findDest(fs, d) >= 0 {
		return syscall.EEXIST
	}
	fs.dests = append(fs.dests, storedDest(&fs.svc, d))
	return nil
}

// UpdateDestination edits a real server in place: ENOENT when missing.
func (f *Fake) UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, err := f.beginOn("UpdateDestination", s, d)
	if err != nil {
		return err
	}
	if err := checkDest(d); err != nil {
		return err
	}
	i := findDest(fs, d)
	if i < 0 {
		return syscall.ENOENT
	}
	fs.dests[i] = storedDest(&fs.svc, d)
	return nil
}

// DelDestination removes a real server: ENOENT when missing.
func (f *Fake) DelDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, err := f.beginOn("DelDestination", s, d)
	if err != nil {
		return err
	}
	i := findDest(fs, d)
	if i < 0 {
		return syscall.ENOENT
	}
	fs.dests = slices.Delete(fs.dests, i, i+1)
	return nil
}
