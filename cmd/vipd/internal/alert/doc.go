// Package alert sends vipd's alerts: e-mail over SMTP (keepalived's
// notification_email / smtp_server / smtp_alert) and a JSON webhook, for
// VRRP instance and sync-group transitions and real-server up/down.
//
// Subjects and bodies are keepalived's (keepalived/core/smtp.c,
// vrrp/vrrp_notify.c, check/check_*.c), so filters written for keepalived's
// mails keep working:
//
//	[router_id] VRRP Instance VI_1 - Entering MASTER state
//	=> VRRP Instance is now owning VRRP VIPs <=
//
// Invariants:
//   - Notifier.Send never blocks and never does I/O: it appends to a bounded
//     queue per sink (SMTP, webhook) and returns. When a queue is full the
//     oldest queued message is dropped and counted (Stats.Dropped), so the
//     newest state always gets out. A dead or slow mail server therefore
//     never delays a VRRP transition.
//   - Each sink has one worker, owned by Run; the sinks do not wait for
//     each other. A worker delivers in order, one message at a time; a
//     failed delivery is retried at most Config.Attempts times in all,
//     waiting Backoff, 2·Backoff, … (capped at MaxBackoff) between tries,
//     then counted in Stats.Failed and dropped. Every attempt is bounded by
//     the sink's Timeout.
//   - Send suppresses an event whose State equals the last one sent for
//     the same (Kind, Name, VirtualServer), as keepalived's last_email_state
//     does.
//   - Run returns only after its workers have exited. When its ctx ends,
//     the workers make one more attempt at each queued message within
//     Config.DrainTimeout (so "Stopping" mails sent just before shutdown
//     go out), then exit; later Sends are queued and never delivered.
//   - With STARTTLS configured, a server that does not offer it gets no
//     message (the mail is never sent in clear).
//   - No package state: everything lives in the Notifier.
package alert
