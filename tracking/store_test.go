package tracking

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenDefaultPath(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want string // relative to the working directory
	}{
		{"default", "", DefaultPath},
		{"env", "custom.db", "custom.db"},
		{"env subdir", filepath.Join("sub", "x.db"), filepath.Join("sub", "x.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			os.Mkdir("sub", 0o755)
			t.Setenv(EnvDB, tt.env)
			s, err := Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want, _ := filepath.Abs(tt.want)
			if s.Path() != want {
				t.Errorf("Path() = %s, want %s", s.Path(), want)
			}
			if _, err := os.Stat(want); err != nil {
				t.Errorf("database not created: %v", err)
			}
		})
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	// Several connections: every one must carry the settings.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for _, tt := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"synchronous", "1"}, // NORMAL
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"application_id", "1196179778"},
		} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, tt.pragma, got, tt.want)
			}
		}
	}
	var v int
	if err := s.db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion || migrations[len(migrations)-1].version != SchemaVersion {
		t.Errorf("schema version %d, SchemaVersion %d, last migration %d", v, SchemaVersion, migrations[len(migrations)-1].version)
	}
}

func TestMigrationsOrdered(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Errorf("migration %d has version %d", i, m.version)
		}
	}
}

// createAtVersion makes a database with only the first n migrations.
func createAtVersion(t *testing.T, path string, n int) {
	t.Helper()
	db, err := sql.Open(driverName, dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(n); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != n {
		t.Fatalf("created version %d (%v), want %d", v, err, n)
	}
	db.Close()
}

// migrated makes a database at schema version n holding what stmts
// write, then opens it with Open, which migrates it.
func migrated(t *testing.T, n int, stmts ...sqlStmt) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	createAtVersion(t, path, n)
	db, err := sql.Open(driverName, dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// sqlStmt is a statement and its arguments.
type sqlStmt struct {
	sql  string
	args []any
}

func TestMigrateFromV1(t *testing.T) {
	// Data written the v1 way: metric history only.
	s, path := migrated(t, 1,
		sqlStmt{`INSERT INTO experiments (id, name, created) VALUES (1, 'old', 0)`, nil},
		sqlStmt{`INSERT INTO runs (id, experiment_id, name, status, start_time, end_time) VALUES ('r1', 1, 'first', 'FINISHED', 1000, 2000)`, nil},
		sqlStmt{`INSERT INTO params (run_id, key, value) VALUES ('r1', 'lr', '0.1')`, nil},
		sqlStmt{`INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES
			('r1', 'loss', 0.9, 0, 10), ('r1', 'loss', 0.5, 2, 11), ('r1', 'loss', 0.7, 1, 12),
			('r1', 'acc', 0.1, 5, 10), ('r1', 'acc', 0.2, 5, 20), ('r1', 'acc', 0.3, 5, 15)`, nil},
	)
	var v int
	s.db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v)
	if v != SchemaVersion {
		t.Fatalf("version after migration = %d, want %d", v, SchemaVersion)
	}
	ri, err := s.GetRun("r1")
	if err != nil {
		t.Fatal(err)
	}
	// loss: highest step wins (0.5 at step 2); acc: same step, newest timestamp wins (0.2).
	if ri.Metrics["loss"] != 0.5 || ri.Metrics["acc"] != 0.2 || ri.Params["lr"] != "0.1" {
		t.Errorf("after migration: metrics %v params %v", ri.Metrics, ri.Params)
	}
	// The v3 tables work.
	run, err := s.StartRun("old", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.LogDataset(RoleTrain, "d", []string{"x"}, [][]float64{{1}}); err != nil {
		t.Fatal(err)
	}
	run.Finish()
	// Opening again is a no-op.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

// A version 3 store keeps its inputs, which read back without levels.
func TestMigrateFromV3(t *testing.T) {
	content := []byte("x,y\n1,0\n")
	h := sha256.Sum256(content)
	sum := hex.EncodeToString(h[:])
	packed, err := pack(content)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := migrated(t, 3,
		sqlStmt{`INSERT INTO experiments (id, name, created) VALUES (1, 'old', 0)`, nil},
		sqlStmt{`INSERT INTO runs (id, experiment_id, status, start_time) VALUES ('r1', 1, 'FINISHED', 1000)`, nil},
		sqlStmt{`INSERT INTO datasets (sha256, rows, cols, schema, format, size, content, created) VALUES (?, 1, 2, '["x","y"]', 'csv', ?, ?, 0)`,
			[]any{sum, len(content), packed}},
		sqlStmt{`INSERT INTO run_inputs (run_id, dataset_sha256, role, name) VALUES ('r1', ?, 'train', 'train')`, []any{sum}},
	)
	in, err := s.Inputs("r1")
	if err != nil || len(in) != 1 || in[0].SHA256 != sum || in[0].Levels != nil || len(in[0].Columns) != 2 {
		t.Fatalf("inputs after migration: %+v, %v", in, err)
	}
	// A corrupt levels value is reported, not taken for "all numeric".
	if _, err := s.db.Exec(`UPDATE run_inputs SET levels = '[["a"]' WHERE run_id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Inputs("r1"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "input train/train") {
		t.Errorf("corrupt levels: %v", err)
	}
}

func TestRefuseForeignFiles(t *testing.T) {
	sqliteWith := func(stmts ...string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			db, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name    string
		make    func(t *testing.T, path string)
		wantErr error
		wantMsg string
	}{
		{"text file", func(t *testing.T, p string) { os.WriteFile(p, []byte("hello, this is a notebook\n"), 0o644) },
			ErrNotDatabase, "not a SQLite database"},
		{"short binary", func(t *testing.T, p string) { os.WriteFile(p, []byte{0, 1, 2}, 0o644) },
			ErrNotDatabase, "not a SQLite database"},
		{"sqlite of another app", sqliteWith(`CREATE TABLE invoices (id INTEGER, total REAL)`, `INSERT INTO invoices VALUES (1, 9.5)`),
			ErrNotDatabase, "another application"},
		{"other app with our table names", sqliteWith(`CREATE TABLE runs (id TEXT)`, `CREATE TABLE schema_version (version INTEGER)`),
			ErrNotDatabase, "another application"},
		{"newer schema", func(t *testing.T, p string) {
			createAtVersion(t, p, SchemaVersion)
			sqliteWith(`INSERT INTO schema_version (version, name, applied) VALUES (99, 'future', 0)`)(t, p)
		}, nil, "newer than this gopherlab"},
		{"corrupt pages", func(t *testing.T, p string) {
			createAtVersion(t, p, SchemaVersion)
			// Keep the WAL content in the main file, then damage page 1
			// after the header, where the schema lives.
			sqliteWith(`PRAGMA wal_checkpoint(TRUNCATE)`, `PRAGMA journal_mode=DELETE`)(t, p)
			b, _ := os.ReadFile(p)
			for i := 100; i < 4096 && i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(p, b, 0o644)
		}, ErrCorrupt, "corrupt"},
		{"directory", func(t *testing.T, p string) { os.Mkdir(p, 0o755) }, nil, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			tt.make(t, path)
			before := snapshot(t, dir)
			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("error: %v", err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot describes every file of dir by name and content hash.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var parts []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		parts = append(parts, filepath.Base(p)+":"+sha256sum(b)[:12])
		return nil
	})
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func sha256sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestOpenConcurrentCreate(t *testing.T) {
	// Several stores creating the same new database at once all succeed.
	path := filepath.Join(t.TempDir(), "new.db")
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			s, err := Open(path)
			if err == nil {
				_, err = s.StartRun("e", nil)
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestReapOrphans(t *testing.T) {
	s := openTemp(t)
	me := self()
	// A pid that certainly exited: a finished child process.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	deadPID := cmd.Process.Pid
	tests := []struct {
		name string
		o    owner
		want string
	}{
		{"dead pid", owner{pid: deadPID, start: 1, boot: me.boot, host: me.host}, StatusKilled},
		{"pid reused by another process", owner{pid: me.pid, start: me.start + 1, boot: me.boot, host: me.host}, StatusKilled},
		{"other boot", owner{pid: me.pid, start: me.start, boot: "another-boot", host: me.host}, StatusKilled},
		{"alive (this process)", me, StatusRunning},
		{"other host", owner{pid: deadPID, start: 1, host: me.host + ".elsewhere"}, StatusRunning},
	}
	if me.start == 0 || me.boot == "" {
		t.Log("process start time or boot id unavailable: only pid liveness is checked")
		tests = tests[:1]
	}
	ids := map[string]string{}
	for _, tt := range tests {
		r, err := s.StartRun("reap", &RunOptions{Name: tt.name})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetric("m", 1, 0)
		r.Flush()
		if _, err := s.db.Exec(`UPDATE runs SET owner_pid = ?, owner_start = ?, owner_boot = ?, owner_host = ? WHERE id = ?`,
			tt.o.pid, tt.o.start, tt.o.boot, tt.o.host, r.ID()); err != nil {
			t.Fatal(err)
		}
		ids[tt.name] = r.ID()
		// Forget the run so Close does not end it.
		s.mu.Lock()
		delete(s.open, r)
		s.mu.Unlock()
	}
	n, err := s.ReapOrphans()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, tt := range tests {
		ri, err := s.GetRun(ids[tt.name])
		if err != nil {
			t.Fatal(err)
		}
		if ri.Status != tt.want {
			t.Errorf("%s: status %s, want %s", tt.name, ri.Status, tt.want)
		}
		if tt.want == StatusKilled {
			killed++
			if ri.EndTime.IsZero() || !strings.Contains(ri.Error, "ended without ending the run") {
				t.Errorf("%s: end time %v, error %q", tt.name, ri.EndTime, ri.Error)
			}
		}
	}
	if n != killed {
		t.Errorf("ReapOrphans returned %d, want %d", n, killed)
	}
}

func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 60 MB")
	}
	s := openTemp(t)
	r, err := s.StartRun("wal", nil)
	if err != nil {
		t.Fatal(err)
	}
	// About 4x the WAL bound in pages, written without pause.
	const points = 500_000
	var peak int64
	for i := 0; i < points; i++ {
		r.LogMetric("loss", float64(i), i)
		if i%20000 == 0 {
			if st, err := os.Stat(s.Path() + "-wal"); err == nil && st.Size() > peak {
				peak = st.Size()
			}
		}
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	const limit = 48 << 20 // three times the 16 MiB bound
	t.Logf("WAL peak %.1f MiB (limit %.1f MiB)", float64(peak)/(1<<20), float64(limit)/(1<<20))
	if peak > limit {
		t.Errorf("WAL grew to %d bytes", peak)
	}
}

// A database in a directory this process cannot write is read
// read-only: immutable while nobody has it open, else through the
// writer's -shm file. (Root writes anywhere: TestReadOnlyDirectory
// checks the choice itself as another user.)
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := w.StartRun("e", &RunOptions{Name: "first"})
	r.Finish()
	w.Close() // checkpoints and removes the WAL: nobody has it open

	before := snapshot(t, dir)
	s, err := openMode(path, readImmutable)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.SearchRuns(SearchQuery{})
	if err != nil || len(runs) != 1 || runs[0].Name != "first" {
		t.Fatalf("immutable read: %v, %v", runs, err)
	}
	if _, err := s.StartRun("e", nil); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("write to a read-only store: %v", err)
	}
	if s.changedSinceOpen() {
		t.Error("changed without a writer")
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("an immutable read changed the directory:\nbefore %s\nafter  %s", before, after)
	}

	// A writer starts: what the immutable store reads may be stale or
	// torn, and a store opened now reads the writer's log.
	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, _ = w.StartRun("e", &RunOptions{Name: "second"})
	r.Flush()
	if !s.changedSinceOpen() {
		t.Error("a writer's -wal file went unnoticed")
	}
	s.Close()
	ro, err := openMode(path, readOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if runs, err := ro.SearchRuns(SearchQuery{OrderBy: "name"}); err != nil || len(runs) != 2 || runs[1].Name != "second" {
		t.Errorf("read-only read beside a writer: %v, %v", names(runs), err)
	}
	if ro.changedSinceOpen() {
		t.Error("a locked read-only store cannot be torn")
	}
}

// As a user who cannot write the directory: read-only commands work and
// leave no file behind, writing says why it cannot. Run as root, it
// checks nothing (root writes anywhere); as another user, for example
//
//	go test -c -o /tmp/tracking.test ./tracking
//	runuser -u nobody -- /tmp/tracking.test -test.run TestReadOnlyDirectory -test.v
func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skip("needs a user that directory permissions apply to")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gopherlab.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := w.StartRun("e", &RunOptions{Name: "first"})
	r.LogMetric("accuracy", 0.9, 0)
	r.Finish()
	w.Close()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	before := snapshot(t, dir)

	var out bytes.Buffer
	if err := RunsCommand([]string{"list", "-db", path}, &out); err != nil || !strings.Contains(out.String(), "first") {
		t.Errorf("runs list: %v\n%s", err, out.String())
	}
	html := filepath.Join(t.TempDir(), "r.html")
	if err := ReportCommand([]string{"e", "-db", path, "-o", html}, io.Discard); err != nil {
		t.Errorf("report: %v", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("reading changed the directory:\nbefore %s\nafter  %s", before, after)
	}
	for _, tt := range []struct{ path, want string }{
		{path, "the directory " + dir + " is not writable (permission denied), and SQLite keeps the database's write-ahead log"},
		{filepath.Join(dir, "new.db"), "tracking: create " + filepath.Join(dir, "new.db") + ": the directory " + dir + " is not writable (permission denied)"},
	} {
		s, err := Open(tt.path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", tt.path)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s): %v, want %q", tt.path, err, tt.want)
		}
	}
}

// OpenExisting never makes a database: a missing or empty file is an
// error naming it, and stays as it was.
func TestOpenExisting(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if _, err := OpenExisting(missing); err == nil || !strings.Contains(err.Error(), "no tracking database at "+missing) {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("missing file created: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenExisting(empty); err == nil || !strings.Contains(err.Error(), "empty file, not a tracking database, at "+empty) {
		t.Errorf("empty: %v", err)
	}
	if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
		t.Errorf("empty file changed: %v %v", st, err)
	}
	real := filepath.Join(dir, "runs.db")
	s, err := Open(real)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenExisting(real)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// OpenExisting("") is the default store, as Open("") is, and a missing
// default store is an error naming its path.
func TestOpenExistingDefault(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDB, filepath.Join(dir, "runs.db"))
	if _, err := OpenExisting(""); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "runs.db")) {
		t.Errorf("missing default: %v", err)
	}
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenExisting("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != filepath.Join(dir, "runs.db") {
		t.Errorf("opened %s", s.Path())
	}
	s.Close()
}

// Every method that takes a run id takes the short ids the CLI and
// notebooks show, as GetRun does, and says when one is unknown or
// ambiguous rather than answer with nothing.
func TestShortRunIDs(t *testing.T) {
	s := openTemp(t)
	run, err := s.StartRun("e", nil)
	if err != nil {
		t.Fatal(err)
	}
	for step, v := range []float64{0.5, 0.7} {
		run.LogMetric("acc", v, step)
	}
	if err := run.LogArtifact("notes.txt", "text", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := run.LogDataset(RoleTrain, "train", []string{"a"}, [][]float64{{1}, {2}}); err != nil {
		t.Fatal(err)
	}
	child, err := run.StartChild("fold 0")
	if err != nil {
		t.Fatal(err)
	}
	child.Finish()
	if err := run.Finish(); err != nil {
		t.Fatal(err)
	}
	short := ShortID(run.ID())
	if h, err := s.MetricHistory(short, "acc"); err != nil || len(h.Values) != 2 {
		t.Errorf("MetricHistory(%s): %v %+v", short, err, h)
	}
	if k, err := s.MetricKeys(short); err != nil || len(k) != 1 {
		t.Errorf("MetricKeys: %v %v", err, k)
	}
	if n, err := s.MetricCount(short); err != nil || n["acc"] != 2 {
		t.Errorf("MetricCount: %v %v", err, n)
	}
	if c, err := s.Children(short); err != nil || len(c) != 1 {
		t.Errorf("Children: %v %d", err, len(c))
	}
	if a, err := s.Artifacts(short); err != nil || len(a) != 1 {
		t.Errorf("Artifacts: %v %d", err, len(a))
	}
	if _, err := s.ArtifactFile(short, "notes.txt"); err != nil {
		t.Errorf("ArtifactFile: %v", err)
	}
	if b, err := s.ReadArtifact(short, "notes.txt"); err != nil || string(b) != "hi" {
		t.Errorf("ReadArtifact: %v %q", err, b)
	}
	if in, err := s.Inputs(short); err != nil || len(in) != 1 {
		t.Errorf("Inputs: %v %d", err, len(in))
	}
	if _, err := s.Artifacts("ffffffff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown prefix: %v, want ErrNotFound", err)
	}
}

// TestSearchUnknownKey checks that a search names a metric, param or tag
// no run it searches has, with the keys it may have meant, and lets
// through keys only some runs have, IS NULL tests and empty scopes.
func TestSearchUnknownKey(t *testing.T) {
	s := openTemp(t)
	for i, spec := range []struct {
		exp     string
		metrics map[string]float64
		tags    map[string]string
	}{
		{"iris", map[string]float64{"mean_accuracy": 0.95}, map[string]string{"team": "a"}},
		{"iris", map[string]float64{"mean_accuracy": 0.85}, nil},
		{"iris", nil, nil},
		{"other", map[string]float64{"other_only": 1}, nil},
	} {
		r, err := s.StartRun(spec.exp, &RunOptions{Name: fmt.Sprint("run ", i), Tags: spec.tags, Params: map[string]any{"k": i}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.LogMetrics(spec.metrics, 0); err != nil {
			t.Fatal(err)
		}
		r.Finish()
	}
	tests := []struct {
		name string
		q    SearchQuery
		want int    // runs found, if no error
		err  string // "" for none
	}{
		{"misspelt filter key", SearchQuery{Filter: "metrics.mean_acc > 0.9"}, 0,
			`tracking: search runs: filter: no run has metric "mean_acc" (did you mean metrics.mean_accuracy?)`},
		{"misspelt order key", SearchQuery{OrderBy: "metrics.mean_acc DESC"}, 0,
			`order: no run has metric "mean_acc" (did you mean metrics.mean_accuracy?)`},
		{"misspelt key in one experiment", SearchQuery{Experiment: "iris", Filter: "params.k = 1 AND tags.teem = 'a'"}, 0,
			`filter: no run of experiment "iris" has tag "teem" (did you mean tags.team?)`},
		{"a key of another experiment", SearchQuery{Experiment: "iris", OrderBy: "metrics.other_only"}, 0,
			`order: no run of experiment "iris" has metric "other_only"`},
		{"the same key in all experiments", SearchQuery{Filter: "metrics.other_only > 0"}, 1, ""},
		{"a key some runs lack", SearchQuery{Filter: "tags.team = 'a'"}, 1, ""},
		{"a metric some runs lack, as order", SearchQuery{Experiment: "iris", OrderBy: "metrics.mean_accuracy DESC"}, 3, ""},
		{"an IS NULL test", SearchQuery{Experiment: "iris", Filter: "metrics.mean_acc IS NULL"}, 3, ""},
		{"IS NOT NULL is checked", SearchQuery{Filter: "metrics.mean_acc IS NOT NULL"}, 0, `no run has metric "mean_acc"`},
		{"no run searched", SearchQuery{Experiment: "nothing", Filter: "metrics.mean_acc > 0.9"}, 0, ""},
		{"attributes", SearchQuery{Filter: "status = 'FINISHED'", OrderBy: "start_time"}, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.SearchRuns(tt.q)
			ids, err2 := s.SearchRunIDs(tt.q)
			if tt.err == "" {
				if err != nil || err2 != nil || len(runs) != tt.want || len(ids) != tt.want {
					t.Errorf("found %d runs, %d ids, errors %v, %v; want %d runs", len(runs), len(ids), err, err2, tt.want)
				}
				return
			}
			for _, e := range []error{err, err2} {
				if !errors.Is(e, ErrUnknownKey) || !strings.Contains(e.Error(), tt.err) {
					t.Errorf("error %v, want ErrUnknownKey with %q", e, tt.err)
				}
			}
		})
	}
}

// TestReapedEndTime checks that a run found dead ends at its last
// recorded activity, not when it was found: its newest metric point
// (whatever its step), artifact, or child run's start or end; its start
// if nothing else.
func TestReapedEndTime(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	deadPID := cmd.Process.Pid
	t0 := time.Now().Add(-24 * time.Hour).Truncate(time.Millisecond)
	at := func(sec int) int64 { return t0.Add(time.Duration(sec) * time.Second).UnixMilli() }
	type child struct {
		start, end int // seconds after t0; end < 0: still RUNNING (dies too)
		metricAt   int // a metric point at this second; 0 for none
	}
	tests := []struct {
		name       string
		metrics    map[int]int // step -> second logged
		artifactAt int         // 0 for none
		children   []child
		want       int // end, seconds after t0
	}{
		{"nothing but the start", nil, 0, nil, 0},
		{"the newest metric point, not the highest step", map[int]int{5: 2, 1: 3}, 0, nil, 3},
		{"an artifact after the metrics", map[int]int{0: 1}, 4, nil, 4},
		{"a grid search: its trials", nil, 0, []child{{1, 2, 0}, {3, -1, 5}}, 5},
		{"a trial that only started", map[int]int{0: 1}, 0, []child{{6, -1, 0}}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := s.db.Exec(q, args...); err != nil {
					t.Fatal(err)
				}
			}
			start := func(parent *Run, startSec, metricAt int, metrics map[int]int) *Run {
				var r *Run
				var err error
				if parent == nil {
					r, err = s.StartRun("reap", nil)
				} else {
					r, err = parent.StartChild("trial")
				}
				if err != nil {
					t.Fatal(err)
				}
				if metricAt > 0 {
					metrics = map[int]int{0: metricAt}
				}
				for step, sec := range metrics {
					r.LogMetric("m", 1, step)
					r.Flush()
					exec(`UPDATE metrics SET timestamp = ? WHERE run_id = ? AND step = ?`, at(sec), r.ID(), step)
				}
				exec(`UPDATE runs SET start_time = ? WHERE id = ?`, at(startSec), r.ID())
				return r
			}
			r := start(nil, 0, 0, tt.metrics)
			if tt.artifactAt > 0 {
				exec(`INSERT INTO artifacts (run_id, name, sha256, size, path, created) VALUES (?, 'a', 'x', 0, 'x', ?)`, r.ID(), at(tt.artifactAt))
			}
			var kids []*Run
			for _, c := range tt.children {
				k := start(r, c.start, c.metricAt, nil)
				if c.end >= 0 {
					k.Finish()
					exec(`UPDATE runs SET end_time = ? WHERE id = ?`, at(c.end), k.ID())
				}
				kids = append(kids, k)
			}
			exec(`UPDATE runs SET owner_pid = ? WHERE status = 'RUNNING'`, deadPID)
			s.mu.Lock()
			for _, k := range append(kids, r) {
				delete(s.open, k) // so Close does not end them
			}
			s.mu.Unlock()
			if _, err := s.ReapOrphans(); err != nil {
				t.Fatal(err)
			}
			ri, err := s.GetRun(r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if ri.Status != StatusKilled || !ri.EndTime.Equal(t0.Add(time.Duration(tt.want)*time.Second)) {
				t.Errorf("status %s, end %s after the start, want KILLED %ds after", ri.Status, ri.EndTime.Sub(t0), tt.want)
			}
			if got, want := durationText(ri), "≥"+formatDuration(time.Duration(tt.want)*time.Second); got != want {
				t.Errorf("duration shown as %q, want %q", got, want)
			}
			if !strings.Contains(ri.Error, "last recorded activity") {
				t.Errorf("error %q does not say what the end time is", ri.Error)
			}
		})
	}
}
