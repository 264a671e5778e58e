// Package lvs implements vipd's IPVS (LVS) module: keepalived's
// virtual_server, real_server, sorry_server, inhibit_on_failure and quorum
// semantics programmed through github.com/moby/ipvs, plus the IPVS
// connection synchronization daemon through generic netlink.
//
// Invariants:
//   - Ownership: vipd owns exactly the virtual services whose key
//     (family+protocol+address+port, or family+fwmark) appears in the desired
//     state it is given, plus the ones it programmed itself earlier in this
//     process. It never modifies or deletes any other kernel service, and
//     Flush removes only owned services. Within an owned service it owns
//     every destination.
//   - Minimal diff: a parameter change is applied with UpdateService or
//     UpdateDestination, never delete+add, so live connections survive.
//     Reconcile diffs against a cached copy of the kernel table, so a change
//     of one real server costs exactly one kernel call. The cache is refreshed
//     from the kernel on the first Reconcile, after any kernel error and on
//     Resync.
//   - Restart safety: a new Reconciler adopts matching services and
//     destinations found in the kernel instead of flushing them.
//   - The kernel is reached only through the small ipvsHandle interface; the
//     in-memory fake in lvs/lvstest implements it and the same test table runs
//     against both (TestKernel… runs in a VM, see test/vm/run.sh).
package lvs
