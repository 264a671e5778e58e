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
