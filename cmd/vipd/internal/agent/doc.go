// Package agent wires vipd together: configuration in, VRRP routers, VIP
// providers, tracking, LVS and health checks, the status socket and metrics
// out. It is the only package that knows all the others.
package agent
