package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// timeGoMod times 'modreplace -gomod' over each repository's go.mod files:
// runs times for the modreplace of this checkout and, alternating, for
// baseline if set. It prints each median and their ratio, and how many
// notes a run printed (a note means the module cache is not warm).
func timeGoMod(corpus, tmp string, names []string, runs int, baseline string) error {
	bin := filepath.Join(tmp, "modreplace")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/modkit/modkit/analyzer/cmd/modreplace").CombinedOutput(); err != nil {
		return fmt.Errorf("building modreplace: %v\n%s", err, out)
	}
	bins := []string{bin}
	if baseline != "" {
		bins = append(bins, baseline)
	}
	for _, name := range names {
		dir := filepath.Join(tmp, name)
		if err := copyTree(filepath.Join(corpus, name), dir); err != nil {
			return err
		}
		var files []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == "go.mod" {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, rel)
			}
			return nil
		})
		slices.Sort(files)
		times := make([][]time.Duration, len(bins))
		notes := make([]int, len(bins))
		for range runs {
			for i, b := range bins {
				cmd := exec.Command(b, append([]string{"-gomod"}, files...)...)
				cmd.Dir = dir
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				start := time.Now()
				err := cmd.Run()
				times[i] = append(times[i], time.Since(start))
				if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 3) {
					return fmt.Errorf("%s -gomod in %s: %v\n%s", b, name, err, stderr.String())
				}
				notes[i] = strings.Count(stderr.String(), ": note: ")
			}
		}
		fmt.Printf("%s: modreplace -gomod over %d go.mod files, %d runs each\n", name, len(files), runs)
		for i, b := range bins {
			fmt.Printf("\t%-40s median %7.1f ms   (notes per run: %d)\n", b, ms(median(times[i])), notes[i])
		}
		if len(bins) == 2 {
			fmt.Printf("\tratio this checkout / baseline: %.2f\n", ms(median(times[0]))/ms(median(times[1])))
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
