// Package plan converts a vipd configuration (configs.Config) into the values
// the runtime packages take: vrrp.Config per instance, provider options,
// lvs.ServiceState templates, checkers with their parameters, notify
// commands. It is the only conversion: `vipd check` and `vipd run` both build
// a Plan, so whatever check accepts, run can start, and a later reload diffs
// two Plans.
//
// Invariants:
//   - Every value is validated by the package that owns the rule
//     (vrrp.Config.Validate, lvs.ServiceState.Validate, the providers'
//     Options.Validate, the checkers' constructors); configs.Validate checks
//     only what is about the file itself (names, references, families,
//     required keys). Build reports every problem at once, each prefixed with
//     its key path ("instances[0].advert_interval: …").
//   - Enumerations (state, provider kind, LVS protocol, scheduler,
//     forwarding) are parsed once, here, into typed values.
//   - A Plan is immutable once built and holds no host resources: nothing
//     here opens a socket, reads an interface or runs a script. What depends
//     on the host (interface index, default source address, script files) is
//     resolved when the agent starts the part concerned.
package plan
