// Package vmloss is the packet-loss case of vipd's reliability suite
// (test/cmd/reliability): it runs inside the kernel VM (test/vm/run.sh,
// with -m sch_netem), whose kernel has netem. Each pair of nodes — vipd or
// keepalived, 1 s or 0.1 s adverts, 10 % or 30 % loss — has its own bridge
// and namespaces; all pairs run at once. netem drops the given share of
// every packet each node sends (so of VRRP adverts both ways) for the given
// time; the test samples who holds the VIP every 10 ms and prints one
// "RELIAB {json}" line per pair for the suite to put in its report.
//
// Invariants: every namespace, process and qdisc is gone when the test
// ends (the namespaces die with their threads); addresses are only in
// 192.0.2.0/24. It skips outside the VM (VIPD_IN_VM unset) or without root.
package vmloss
