// Package lvstest provides an in-memory IPVS table, Fake, that implements
// the moby/ipvs calls lvs makes, with the kernel's semantics for them
// (errno values, the HASHED service flag, fwmark services read back without
// address and protocol, an empty destination list for a missing service).
// It records every call and can be told to fail. lvs runs the same test
// table against it and against the real kernel in a VM, so the two cannot
// drift apart unnoticed.
package lvstest
