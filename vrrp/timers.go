package vrrp

import "time"

// skewTime is Skew_Time: how much sooner than its peers a backup of higher
// priority declares the master down.
//
// RFC 3768 §6.1 (v2): ((256 - Priority) / 256) seconds.
// RFC 5798 §6.1 (v3): ((256 - Priority) * Master_Adver_Interval) / 256.
//
// It is computed in nanoseconds, so it is exact for every priority.
func skewTime(priority uint8, masterAdverInterval time.Duration, version uint8) time.Duration {
	if version == 2 {
		return time.Duration(256-int64(priority)) * time.Second / 256
	}
	return time.Duration(256-int64(priority)) * masterAdverInterval / 256
}

// masterDownInterval is Master_Down_Interval, the time a backup waits
// without adverts before declaring the master down:
// (3 * Master_Adver_Interval) + Skew_Time (RFC 5798 §6.1, RFC 3768 §6.1,
// where v2 uses Advertisement_Interval).
func masterDownInterval(priority uint8, masterAdverInterval time.Duration, version uint8) time.Duration {
	return 3*masterAdverInterval + skewTime(priority, masterAdverInterval, version)
}

// advertGrid is how many slots an Advertisement_Interval is divided into
// for aligning the Adver_Timers of the masters (see advertDelay).
const advertGrid = 8

// advertDelay is when a master sends its next periodic advert: at
// now+interval rounded down to a slot of interval/advertGrid of the wall
// clock. Every master with the same interval then sends on one of
// advertGrid slots per interval, so many instances wake the agent
// advertGrid times per interval instead of once each (keepalived's single
// timer loop coalesces its instances the same way). The first advert after
// an unaligned one comes at most one slot (12.5%) early, which only makes
// a backup's Master_Down_Timer further from expiry; after that the adverts
// are exactly interval apart, with no drift.
func advertDelay(now time.Time, interval time.Duration) time.Duration {
	slot := interval / advertGrid
	if slot <= 0 {
		return interval
	}
	off := now.Add(interval).UnixNano() % int64(slot)
	if off < 0 {
		off += int64(slot)
	}
	return interval - time.Duration(off)
}
