package memtrim

import (
	"strings"
	"testing"
	"time"
)

const sample = `00400000-00c00000 r-xp 00000000 08:01 1234                       /usr/bin/gopherlab
Size:               8192 kB
Rss:                5000 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
00c00000-01000000 r--p 00800000 08:01 1234                       /usr/bin/gopherlab
Rss:                1000 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
01000000-01100000 rw-p 00c00000 08:01 1234                       /usr/bin/gopherlab
Rss:                 300 kB
Anonymous:           200 kB
01100000-01200000 rw-p 00000000 00:00 0
Rss:                 100 kB
Anonymous:           100 kB
7f0000000000-7f0000001000 r--p 001e0000 08:01 99                 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                   4 kB
Private_Dirty:         4 kB
Anonymous:             4 kB
7f0000001000-7f0000002000 r-xp 00028000 08:01 99                 /usr/lib/x86_64-linux-gnu/lib with space.so
Rss:                   4 kB
Anonymous:             0 kB
7f0000002000-7f0000003000 r--s 00000000 08:01 77                 /dev/shm/shared
Rss:                   4 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                  [vdso]
Rss:                   8 kB
Anonymous:             0 kB
`

func TestCleanFileMappings(t *testing.T) {
	got := cleanFileMappings([]byte(sample))
	want := []mapping{
		{0x00400000, 0x00c00000}, // code
		{0x00c00000, 0x01000000}, // read-only data
		{0x7f0000001000, 0x7f0000002000},
		// not: writable data, anonymous memory, relocated read-only data
		// (RELRO, anonymous pages), shared mappings, [vdso]
	}
	if len(got) != len(want) {
		t.Fatalf("cleanFileMappings = %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d = %x, want %x", i, got[i], want[i])
		}
	}
}

func TestParseIdleDelay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", time.Second, false},
		{"off", 0, false},
		{"0", 0, false},
		{"2s", 2 * time.Second, false},
		{"500ms", 500 * time.Millisecond, false},
		{"bogus", 0, true},
		{"-1s", 0, true},
		{"5", 0, true}, // no unit
	} {
		d, err := ParseIdleDelay(tc.in)
		if (err != nil) != tc.bad || !tc.bad && d != tc.want {
			t.Errorf("ParseIdleDelay(%q) = %v, %v", tc.in, d, err)
		}
		if tc.bad && (err == nil || !strings.Contains(err.Error(), "GOPHERLAB_IDLE_TRIM")) {
			t.Errorf("ParseIdleDelay(%q): error %v does not name the variable", tc.in, err)
		}
	}
}
