//go:build !linux

package vrrp

import "errors"

var errUnsupported = errors.New("vrrp: raw VRRP sockets are only supported on linux")

// ListenIPv4 is only implemented on Linux.
func ListenIPv4() (Conn, error) { return nil, errUnsupported }

// ListenIPv6 is only implemented on Linux.
func ListenIPv6() (Conn, error) { return nil, errUnsupported }
