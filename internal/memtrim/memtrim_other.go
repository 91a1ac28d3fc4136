//go:build !linux

package memtrim

// dropFilePages is Linux-only; elsewhere only the heap is trimmed.
func dropFilePages() error { return nil }
