package lvs

import "sync/atomic"

// Metrics counts the reconciler's kernel calls. Create one and pass it in
// Config to export it; the zero value is ready.
type Metrics struct {
	getServices, newService, updateService, delService atomic.Uint64
	getDests, newDest, updateDest, delDest             atomic.Uint64
	errors                                             atomic.Uint64
}

// CallCounts is a snapshot of Metrics.
type CallCounts struct {
	GetServices, NewService, UpdateService, DelService uint64
	GetDests, NewDest, UpdateDest, DelDest             uint64
	// Errors counts kernel calls that failed.
	Errors uint64
}

// Snapshot returns the current counts.
func (m *Metrics) Snapshot() CallCounts {
	return CallCounts{
		GetServices: m.getServices.Load(), NewService: m.newService.Load(),
		UpdateService: m.updateService.Load(), DelService: m.delService.Load(),
		GetDests: m.getDests.Load(), NewDest: m.newDest.Load(),
		UpdateDest: m.updateDest.Load(), DelDest: m.delDest.Load(),
		Errors: m.errors.Load(),
	}
}

// Total is the number of kernel calls, reads included.
func (c CallCounts) Total() uint64 { return c.Reads() + c.Writes() }

// Reads is the number of table reads.
func (c CallCounts) Reads() uint64 { return c.GetServices + c.GetDests }

// Writes is the number of calls that changed (or tried to change) the table.
func (c CallCounts) Writes() uint64 {
	return c.NewService + c.UpdateService + c.DelService + c.NewDest + c.UpdateDest + c.DelDest
}

// Sub returns c - o, field by field.
func (c CallCounts) Sub(o CallCounts) CallCounts {
	return CallCounts{
		GetServices: c.GetServices - o.GetServices, NewService: c.NewService - o.NewService,
		UpdateService: c.UpdateService - o.UpdateService, DelService: c.DelService - o.DelService,
		GetDests: c.GetDests - o.GetDests, NewDest: c.NewDest - o.NewDest,
		UpdateDest: c.UpdateDest - o.UpdateDest, DelDest: c.DelDest - o.DelDest,
		Errors: c.Errors - o.Errors,
	}
}
