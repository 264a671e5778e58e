// Package lvs implements vipd's IPVS (LVS) module: keepalived's
// virtual_server, virtual_server_group, real_server, sorry_server,
// inhibit_on_failure and quorum semantics, programmed through
// github.com/moby/ipvs, and the IPVS connection synchronization daemon
// (lvs_sync_daemon) through generic netlink.
//
// The agent feeds a Reconciler the desired state: the config plus the
// health of every real server (ServiceState); lvs never imports checks/.
//
// Invariants:
//   - Ownership: vipd owns exactly the virtual services whose key
//     (family+protocol+VIP+port, or family+fwmark) is in the desired state
//     it is given, plus those it programmed earlier in this process (a
//     service dropped from the config on reload is deleted). It never
//     modifies or deletes any other kernel service: RemoveOwned (and Flush,
//     its alias; vipd's default on stop, and `vipd cleanup`, which passes
//     the configuration's keys) removes only owned ones. The one exception
//     is FlushAll, keepalived's lvs_flush (at start) and lvs_flush_onstop,
//     which the operator asks for explicitly: it empties the whole table.
//     Within an owned service vipd owns every destination. A service
//     removed from the config while vipd was not running is therefore left
//     in the kernel.
//   - Minimal diff: a parameter change is applied with UpdateService or
//     UpdateDestination, never delete+add, so live connections survive.
//     Reconcile diffs against a cached copy of the kernel table, so a change
//     of one real server costs exactly one kernel call. The cache is
//     refreshed from the kernel on the first Reconcile, after any kernel
//     error, and on Resync (Run calls it periodically).
//   - Restart safety: a new Reconciler adopts matching services and
//     destinations found in the kernel instead of flushing them, and leaves
//     services linked to a VRRP instance untouched until SetActive reports
//     that instance's state.
//   - Kernel calls are serialized (one Reconciler method at a time) and
//     checked against ctx between calls; a single moby/ipvs call cannot be
//     canceled (it is bounded by the kernel's synchronous netlink reply).
//   - The kernel is reached only through the small ipvsHandle interface; the
//     in-memory fake in lvs/lvstest implements it and the same test table
//     runs against both (TestKernel… runs in a VM: test/vm/run-lvs-tests.sh).
package lvs
