//go:build !linux

package bfd

import "errors"

// Listen is only implemented on Linux.
func Listen() (Conn, error) { return nil, errors.New("bfd: sockets are only supported on linux") }
