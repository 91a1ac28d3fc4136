//go:build !(linux && (amd64 || arm64))

package tracking

// pageWatch is unavailable here: Linux's write tracking has no
// counterpart the autologger uses, so it compares data instead.
type pageWatch struct{}

func watchPages(start, end uintptr) *pageWatch { return nil }

func cleanWatches(ws []*pageWatch, clean []bool) { clear(clean) }

func (w *pageWatch) release() {}
