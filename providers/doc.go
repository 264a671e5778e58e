// Package providers moves a virtual IP (VIP) to this node and away from it.
//
// A Provider is told only "acquire" or "release"; it knows nothing of VRRP.
// The on-prem provider (subpackage netlink) adds the address to an interface
// and announces it with gratuitous ARP / unsolicited NA; cloud providers
// (subpackages aws, aliyun, tencent) tell the cloud through its API. Shared
// behaviour lives here so that no provider repeats it: retry with backoff
// and jitter and the CallError it classifies by (retry.go), dry-run
// (Writer), the context gate, metadata reads and transient-HTTP check for
// SDKs without context (sdkgate.go), the mode table with its IPv4 check
// (modes.go), values looked up once (memo.go), the bounded confirmation of
// asynchronous writes (confirm.go: poll, then fail retryably so the next
// attempt re-issues the write) and the read-only go-live check
// (preflight.go: Preflighter, Verdict). Test helpers shared by the cloud
// providers are in subpackage cloudtest.
//
// Invariants: Acquire and Release are idempotent and bounded by ctx; a
// provider that finds the VIP already where it should be makes no write call.
package providers
