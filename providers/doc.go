// Package providers moves a virtual IP (VIP) to this node and away from it.
//
// A Provider is told only "acquire" or "release"; it knows nothing of VRRP.
// The on-prem provider (subpackage netlink) adds the address to an interface
// and announces it with gratuitous ARP / unsolicited NA; cloud providers
// (subpackages aws, aliyun, tencent) tell the cloud through its API. Shared
// behaviour (retry with backoff and jitter, validation, dry-run) lives here so
// that no provider repeats it.
//
// Invariants: Acquire and Release are idempotent and bounded by ctx; a
// provider that finds the VIP already where it should be makes no write call.
package providers
