package harness

import (
	"fmt"
	"os"
	"sync"
)

// Standalone is a TB for programs (demo, benchmark) that use the bed outside
// `go test`. Call Close (deferred) to run the cleanups; Fatalf runs them and
// exits with status 1, so namespaces never outlive the program.
type Standalone struct {
	mu       sync.Mutex
	cleanups []func()
	dir      string
	Verbose  bool
}

// NewStandalone returns a Standalone with its own temporary directory.
func NewStandalone() *Standalone {
	d, err := os.MkdirTemp("", "vipd-bed-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := &Standalone{dir: d}
	s.Cleanup(func() { os.RemoveAll(d) })
	return s
}

// Helper does nothing (TB has no test to mark).
func (s *Standalone) Helper() {}

// Logf prints only when Verbose.
func (s *Standalone) Logf(format string, args ...any) {
	if s.Verbose {
		fmt.Printf(format+"\n", args...)
	}
}

// Fatalf prints, cleans up and exits 1.
func (s *Standalone) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fatal: "+format+"\n", args...)
	s.Close()
	os.Exit(1)
}

// Cleanup registers f; cleanups run last-in first-out.
func (s *Standalone) Cleanup(f func()) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, f)
	s.mu.Unlock()
}

// TempDir returns the program's temporary directory.
func (s *Standalone) TempDir() string { return s.dir }

// Close runs the cleanups once.
func (s *Standalone) Close() {
	s.mu.Lock()
	cs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
