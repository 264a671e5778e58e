// Package notify runs keepalived-style notify commands (notify,
// notify_master, notify_backup, notify_fault, notify_stop, quorum_up,
// quorum_down) off the VRRP loop.
//
// Invariants: Transition and Command never block the caller (a router's
// goroutine): they queue, and a full queue drops the newest entry with a log
// line rather than grow without bound behind a stuck script. One Runner runs
// its commands one at a time, in the order queued; a command runs at most
// Timeout and is then killed. On Run's end the queued entries are still run
// (the final STOP), each bounded by Timeout.
package notify
