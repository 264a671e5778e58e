// Package director runs the LVS side of vipd: it health-checks the real
// servers (one checks.Scheduler for all), turns the plan's services and the
// checks' results into the desired IPVS state, hands it to the lvs
// reconciler, follows the VRRP instances the services are linked to, and
// gives the IPVS connection sync daemon its role.
//
// Invariants: every kernel call runs on Run's goroutine, never on a VRRP
// router's. Follow never blocks and never loses a transition: it records the
// latest mastership of each instance and wakes Run, which applies the latest
// state of every instance that changed (a burst collapses to its end, as for
// the VIP holder). Status may be called from any goroutine.
package director
