// Package directors is vipd's end-to-end test of an LVS director pair on a
// real IPVS kernel: two vipd processes, each in its own network namespace,
// share a VIP through VRRP; the master programs the virtual service
// (LVS-DR), health-checks the real servers and runs the IPVS connection
// sync daemon as master, the backup runs it as backup, and a client's
// traffic keeps flowing across a director failover.
//
// Invariants: the tests run only inside the kernel VM (VIPD_IN_VM=1, see
// test/vm/run-director-tests.sh) and skip elsewhere; every namespace they
// build lives on a locked OS thread and every vipd process they start is
// killed at cleanup, also on failure.
package directors
