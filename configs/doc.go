// Package configs loads, defaults and validates vipd's configuration (YAML
// file and VIPD_* environment variables, decoded through viper), and
// converts keepalived.conf. It is the only package that imports viper.
//
// The reference of every key is deploy/examples/full.yaml.
//
// Invariants:
//   - Load returns plain typed structs with every default filled in:
//     consumers never see a missing value, only the documented "0 means
//     inherit" ones (Script.Timeout → Interval, Check.DelayLoop → the virtual
//     server's, Check.ConnectIP/ConnectPort → the real server's,
//     RealServer.InhibitOnFailure nil → the virtual server's, VIP.Dev "" →
//     the instance's interface, smtp_alert nil → the enclosing level's
//     (real server → virtual server → global; instance, sync group →
//     global), LVSSyncDaemon.SyncID nil → Config.LVSSyncID, Check.HeloName
//     "" → the host name, SMTP.From/HELO "" → derived from global.node,
//     Route.Table 0 → main, Route.Scope "" → the kernel's choice).
//   - Defaults are applied per list element at tree level, so an explicit
//     false or 0 in the file or environment is kept.
//   - Empty lists are nil.
//   - Load does not validate; Validate reports every problem at once as a
//     *ValidationErrors, each line starting with the key path.
//   - Validate consults the host only through System (HostSystem for the
//     real one, configstest.System in tests; nil skips host checks).
//   - MarshalYAML writes only non-default keys; LoadBytes(MarshalYAML(c))
//     gives c back.
//   - ParseKeepalived* read keepalived.conf by keepalived's own rules
//     (lib/parser.c) and return a Config that behaves like keepalived
//     with it, with keepalived's effective values written out, or a
//     *MigrateError naming every line that vipd cannot honour; warnings
//     name what was dropped or rewritten without changing behaviour.
//   - No package state: everything is computed per call.
package configs
