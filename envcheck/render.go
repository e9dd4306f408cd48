package envcheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Markers are the one-character status marks of the text report.
var markers = map[Status]string{
	StatusOK:    "✓",
	StatusInfo:  "i",
	StatusWarn:  "!",
	StatusError: "✗",
	StatusSkip:  "-",
}

// WriteText writes the report for people: checks grouped by area, one line
// each with a status mark (✓ ok, i info, ! warning, ✗ error, - skipped),
// details and fixes indented beneath, and a closing summary line. Details
// of ok and skipped checks, and durations, appear only when verbose.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	bw := bufio.NewWriter(w)
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.ID))
	}
	areas := map[string][]Result{}
	var order []string
	for _, c := range r.Checks {
		a := areaOf(c.ID)
		if _, ok := areas[a]; !ok {
			order = append(order, a)
		}
		areas[a] = append(areas[a], c)
	}
	// Known areas in report order first, then any others (unknown IDs).
	var sorted []string
	for _, a := range areaOrder {
		if _, ok := areas[a]; ok {
			sorted = append(sorted, a)
		}
	}
	for _, a := range order {
		if !contains(areaOrder, a) {
			sorted = append(sorted, a)
		}
	}

	indent := strings.Repeat(" ", 4+width+2)
	for i, a := range sorted {
		if i > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(a + "\n")
		for _, c := range areas[a] {
			line := fmt.Sprintf("  %s %-*s  %s", marker(c.Status), width, c.ID, c.Summary)
			if verbose {
				line += fmt.Sprintf(" (%v)", roundDuration(c.Duration))
			}
			bw.WriteString(strings.TrimRight(line, " ") + "\n")
			quiet := c.Status == StatusOK || c.Status == StatusSkip
			if verbose || !quiet {
				for _, d := range c.Details {
					for _, l := range strings.Split(d, "\n") {
						bw.WriteString(indent + l + "\n")
					}
				}
			}
			if c.Fix != "" {
				for j, l := range strings.Split(c.Fix, "\n") {
					prefix := "fix: "
					if j > 0 {
						prefix = "     "
					}
					bw.WriteString(indent + prefix + l + "\n")
				}
			}
		}
	}
	bw.WriteString("\n" + r.summaryLine() + "\n")
	return bw.Flush()
}

func marker(s Status) string {
	if m, ok := markers[s]; ok {
		return m
	}
	return "?"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// areaOf finds a result's area from the registry; unknown IDs (a mistyped
// -check) get their own heading.
func areaOf(id string) string {
	for _, c := range registry {
		if c.id == id {
			return c.area
		}
	}
	return "Other"
}

// summaryLine is the closing line: "24 checks: 18 ok, 2 warnings, 1 error,
// 3 skipped (1.2s)".
func (r *Report) summaryLine() string {
	counts := map[Status]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
	}
	parts := []string{fmt.Sprintf("%d ok", counts[StatusOK])}
	if n := counts[StatusInfo]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d info", n))
	}
	parts = append(parts, plural(counts[StatusWarn], "warning", "warnings"), plural(counts[StatusError], "error", "errors"))
	if n := counts[StatusSkip]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n))
	}
	s := plural(len(r.Checks), "check", "checks") + ": " + strings.Join(parts, ", ")
	if r.Duration > 0 {
		s += fmt.Sprintf(" (%v)", roundDuration(r.Duration))
	}
	return s
}

type jsonResult struct {
	ID         string   `json:"id"`
	Status     Status   `json:"status"`
	Summary    string   `json:"summary"`
	Details    []string `json:"details"`
	Fix        string   `json:"fix"`
	DurationMS float64  `json:"duration_ms"`
}

// MarshalJSON encodes the result as
// {"id","status","summary","details","fix","duration_ms"}; details is
// always an array and duration_ms has microsecond precision.
func (r Result) MarshalJSON() ([]byte, error) {
	d := r.Details
	if d == nil {
		d = []string{}
	}
	ms := math.Round(float64(r.Duration)/float64(time.Microsecond)) / 1000
	return json.Marshal(jsonResult{r.ID, r.Status, r.Summary, d, r.Fix, ms})
}

// MarshalJSON encodes the report as {"checks":[...],"errors":N,"warnings":N}.
func (r Report) MarshalJSON() ([]byte, error) {
	checks := r.Checks
	if checks == nil {
		checks = []Result{}
	}
	return json.Marshal(struct {
		Checks   []Result `json:"checks"`
		Errors   int      `json:"errors"`
		Warnings int      `json:"warnings"`
	}{checks, r.Errors, r.Warnings})
}

// plural formats a count with its noun: "1 check", "2 checks".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
