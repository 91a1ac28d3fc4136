package serving

import (
	"container/list"
	"sync"
)

// lru is a bounded cache of recent per-row results, least recently used
// out first. A zero-size cache keeps nothing.
type lru struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	res Result
}

func newLRU(size int) *lru {
	return &lru{size: size, ll: list.New(), items: map[string]*list.Element{}}
}

// get looks key up; the []byte key costs no allocation.
func (c *lru) get(key []byte) (Result, bool) {
	if c.size <= 0 {
		return Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[string(key)]
	if !ok {
		return Result{}, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry).res, true
}

func (c *lru) put(key string, res Result) {
	if c.size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*lruEntry).res = res
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&lruEntry{key, res})
	for c.ll.Len() > c.size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
