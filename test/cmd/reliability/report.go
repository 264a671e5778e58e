package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Row is one figure of the report.
type Row struct {
	Case   string // e.g. "loss 10% / 1s"
	Daemon string // vipd, keepalived or "-"
	Figure string // what was measured
	Value  string
	Target string // the bound it is held to ("" when only reported)
	Pass   *bool  // nil: reported only
	Soft   bool   // a goal, not an invariant: reported, does not fail the run
}

// Report collects rows and notes; safe for concurrent use.
type Report struct {
	mu    sync.Mutex
	rows  []Row
	notes []string
}

func (r *Report) Add(row Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row)
}

// Check adds a row that passes when ok.
func (r *Report) Check(c, d, fig, val, target string, ok bool) {
	r.Add(Row{Case: c, Daemon: d, Figure: fig, Value: val, Target: target, Pass: &ok})
}

// Goal adds a row held to a goal that timing noise (the TCG VM, a busy
// machine) can miss: it is reported but does not fail the run.
func (r *Report) Goal(c, d, fig, val, target string, ok bool) {
	r.Add(Row{Case: c, Daemon: d, Figure: fig, Value: val, Target: target, Pass: &ok, Soft: true})
}

// Info adds a row that is only reported.
func (r *Report) Info(c, d, fig, val string) { r.Add(Row{Case: c, Daemon: d, Figure: fig, Value: val}) }

// Note adds a line under the table.
func (r *Report) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// Failed counts rows that did not pass.
func (r *Report) Failed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, row := range r.rows {
		if row.Pass != nil && !*row.Pass && !row.Soft {
			n++
		}
	}
	return n
}

// Markdown writes the report.
func (r *Report) Markdown(w io.Writer, title string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "# %s\n\n", title)
	fmt.Fprintln(w, "| case | daemon | figure | value | target | ok |")
	fmt.Fprintln(w, "|------|--------|--------|-------|--------|----|")
	for _, row := range r.rows {
		ok := ""
		if row.Pass != nil {
			ok = "yes"
			switch {
			case !*row.Pass && row.Soft:
				ok = "missed (goal)"
			case !*row.Pass:
				ok = "**NO**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", esc(row.Case), esc(row.Daemon), esc(row.Figure), esc(row.Value), esc(row.Target), ok)
	}
	fmt.Fprintln(w, "\nok: yes = within target; **NO** = an invariant broken (the run fails); missed (goal) = a goal missed, reported only.")
	if len(r.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
