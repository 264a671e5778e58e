// Package providertest implements Fake, an in-memory providers.Provider
// (also Verifier, Announcer and Cleaner) for tests of the code that drives
// providers, in the style of net/http/httptest.
//
// Invariants: every call is recorded (operation, VIP, start time, result)
// under one mutex; injected errors and latency apply only to the operations
// they name; a call whose ctx ends during its latency returns ctx's error;
// the Fake starts no goroutines.
package providertest
