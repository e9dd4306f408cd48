//go:build !linux

package main

// isTmpfs is not known here: the report calls every file system a disk.
func isTmpfs(string) bool { return false }
