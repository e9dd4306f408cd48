package envcheck

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// findings collects what one check found; result folds them into a
// Result whose status is the worst finding's.
type findings struct {
	list []finding
	// notes are context lines that are not findings, such as where a value
	// came from; they go into Details after the findings.
	notes []string
}

type finding struct {
	status Status
	text   string
	fix    string
}

func (f *findings) add(s Status, fix, format string, args ...any) {
	f.list = append(f.list, finding{status: s, text: fmt.Sprintf(format, args...), fix: fix})
}

func (f *findings) note(format string, args ...any) {
	f.notes = append(f.notes, fmt.Sprintf(format, args...))
}

// result returns the worst finding as the summary (with a count of the
// others), every finding and note as details, and the distinct fixes, worst
// first. With no findings it is StatusOK with okSummary.
func (f *findings) result(okSummary string) Result {
	worst := StatusOK
	for _, x := range f.list {
		if x.status.rank() > worst.rank() {
			worst = x.status
		}
	}
	if len(f.list) == 0 {
		return Result{Status: StatusOK, Summary: okSummary, Details: f.notes}
	}
	res := Result{Status: worst}
	var fixes []string
	seen := map[string]bool{}
	for _, want := range []Status{StatusError, StatusWarn, StatusInfo, StatusOK} {
		for _, x := range f.list {
			if x.status != want {
				continue
			}
			if res.Summary == "" {
				res.Summary = x.text
			}
			if x.fix != "" && !seen[x.fix] {
				seen[x.fix] = true
				fixes = append(fixes, x.fix)
			}
		}
	}
	if n := f.count(); n > 1 {
		res.Summary += fmt.Sprintf(" (and %d more)", n-1)
	}
	if len(f.list) > 1 {
		for _, x := range f.list {
			res.Details = append(res.Details, string(x.status)+": "+x.text)
		}
	}
	res.Details = append(res.Details, f.notes...)
	res.Fix = strings.Join(fixes, "\n")
	return res
}

// count is the number of findings worth a user's attention (not ok).
func (f *findings) count() int {
	n := 0
	for _, x := range f.list {
		if x.status != StatusOK {
			n++
		}
	}
	return n
}

// skip is the result of a check that does not apply.
func skip(format string, args ...any) Result {
	return Result{Status: StatusSkip, Summary: fmt.Sprintf(format, args...)}
}

// setFix returns the command that makes name=value take effect, written
// for the layer that decides the current value: an export line when the
// process environment sets it (go env -w cannot override that), otherwise
// 'go env -w', unless there is no GOENV file to write.
func setFix(env *modnet.Env, name, value string) string {
	if env.OS(name) != "" || !canWriteGOENV(env) {
		return exportLine(name, value)
	}
	return "go env -w " + name + "=" + shellQuote(web.RedactList(value))
}

// unsetFix returns the command that removes the setting v, so that the
// layer below (or the default) applies.
func unsetFix(v modnet.Value) string {
	switch v.Layer {
	case modnet.LayerOS:
		if runtime.GOOS == "windows" {
			return "set " + v.Name + "="
		}
		return "unset " + v.Name
	case modnet.LayerEnvFile:
		return "go env -u " + v.Name
	case modnet.LayerGOROOT:
		return fmt.Sprintf("edit %s, line %d", v.File, v.Line)
	}
	return ""
}

func canWriteGOENV(env *modnet.Env) bool {
	_, err := env.EnvFile()
	return err == nil
}

// exportLine sets a variable in the shell, in the syntax of the platform's
// usual shell.
func exportLine(name, value string) string {
	value = web.RedactList(value)
	if runtime.GOOS == "windows" {
		return "set " + name + "=" + value
	}
	return "export " + name + "=" + shellQuote(value)
}

// shellQuote quotes s for a POSIX shell when it contains anything but
// characters that are safe unquoted: GOPROXY lists with '|' and patterns
// with '*' must be quoted to be copied into a shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// origin describes where a value came from, for details lines.
func origin(v modnet.Value) string {
	switch v.Layer {
	case modnet.LayerUnset:
		return v.Name + " is not set"
	case modnet.LayerDefault:
		return fmt.Sprintf("%s=%s (%s)", v.Name, web.RedactList(v.Value), v.Where())
	}
	return fmt.Sprintf("%s=%s (from %s)", v.Name, web.RedactList(v.Value), v.Where())
}
