package tracking

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

const (
	// DefaultPath is the database used when Open is given no path and
	// GOPHERLAB_DB is unset, relative to the working directory.
	DefaultPath = "gopherlab.db"
	// EnvDB names the environment variable that overrides DefaultPath.
	EnvDB = "GOPHERLAB_DB"

	// DefaultBatchSize is how many metric points a run buffers before
	// writing them in one transaction.
	DefaultBatchSize = 1000
	// DefaultFlushInterval is the longest a logged metric point waits in
	// memory before it is written.
	DefaultFlushInterval = 100 * time.Millisecond
)

var (
	// ErrNotDatabase is returned by Open for a file that is not a SQLite
	// database, or a SQLite database that is not a gopherlab tracking
	// database. Such files are never modified.
	ErrNotDatabase = errors.New("not a gopherlab tracking database")
	// ErrCorrupt is returned when SQLite reports the file as damaged.
	ErrCorrupt = errors.New("database file is corrupt")
	// ErrNotFound is returned when a run, artifact or dataset does not exist.
	ErrNotFound = errors.New("not found")
	// ErrRunEnded is returned when logging to a run that has ended.
	ErrRunEnded = errors.New("run has ended")
	// ErrClosed is returned by a Store that has been closed.
	ErrClosed = errors.New("store is closed")
)

// busyTimeout is how long SQLite itself waits for a lock; lockWait is how
// long writeTx keeps retrying after that. Together they turn contention
// between many writer processes into waiting instead of errors.
const (
	busyTimeout = 5 * time.Second
	lockWait    = 60 * time.Second
)

const driverName = "sqlite3_gopherlab"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			// Checkpoints (copying the WAL into the database, with an
			// fsync) run in the store's background goroutine instead of
			// inside whichever commit crosses the threshold, so logging
			// never waits for them.
			if _, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil); err != nil {
				return err
			}
			// gl_num(text) is the number a param or tag value spells, or
			// NULL: it lets filters compare "0.1" with 0.1 numerically
			// without treating "forest" as 0 the way CAST would.
			return c.RegisterFunc("gl_num", sqlNum, true)
		},
	})
}

func sqlNum(v interface{}) interface{} {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		return parseNum(x)
	case []byte:
		return parseNum(string(x))
	}
	return nil
}

func parseNum(s string) interface{} {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return nil
	}
	return f
}

// Store is an open tracking database. It is safe for concurrent use by
// many goroutines; many processes may open the same file at once.
type Store struct {
	db          *sql.DB
	path        string
	artifactDir string

	// writeMu lets one goroutine of this process at a time contend for
	// SQLite's write lock; the others queue here, cheaply, instead of
	// sleeping in SQLite's busy handler.
	writeMu sync.Mutex

	mu            sync.Mutex
	open          map[*Run]struct{}
	closed        bool
	shut          atomic.Bool // closed, for wrap, which may run under mu
	batchSize     int
	flushInterval time.Duration
	reaped        int
	// mode is readWrite, readOnly or readImmutable; stamp is the
	// database file as an immutable store found it.
	mode  int
	stamp os.FileInfo
	// catchUpReads makes reads wait for this process's autologged runs
	// (Open sets it; the autologger's own store writes them).
	catchUpReads bool

	commits  int           // write transactions since the last checkpoint
	kick     chan struct{} // wakes the checkpointer
	done     chan struct{} // closed by Close
	ckptDone chan struct{} // closed when the checkpointer has stopped
}

// checkpointEvery is how many commits wake the checkpointer early; it
// also runs once a second after any write.
const checkpointEvery = 32

// DefaultDBPath returns the database path Open uses when given "":
// $GOPHERLAB_DB if set, else DefaultPath.
func DefaultDBPath() string {
	if p := os.Getenv(EnvDB); p != "" {
		return p
	}
	return DefaultPath
}

// Open opens the tracking database at path, creating it if it does not
// exist and migrating it to the current schema. An empty path means
// DefaultDBPath(). Open refuses, without writing anything, a file that is
// not a gopherlab database (ErrNotDatabase) or is damaged (ErrCorrupt).
//
// Runs on this host that are still RUNNING but whose process is gone are
// marked KILLED. Runs an Autologger of this process has queued are
// written before Open returns.
func Open(path string) (*Store, error) {
	flushAutologgers()
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	s.catchUpReads = true
	return s, nil
}

// catchUp waits, before a read, until the runs this process's
// autologgers have queued are written, so that what the read sees
// includes the fits that came before it: the next cell does not wait for
// them, only a cell that reads the store does.
func (s *Store) catchUp() {
	if s.catchUpReads {
		flushAutologgers()
	}
}

func open(path string) (*Store, error) {
	return openMode(path, readWrite)
}

// Access modes of openMode.
const (
	readWrite = iota
	// readOnly reads a database whose directory this process cannot
	// write, while a writer has it open: SQLite reads the write-ahead log
	// through the -shm file that writer made.
	readOnly
	// readImmutable reads a database that nobody has open (no -wal file)
	// from a directory this process cannot write: SQLite would need to
	// create the -shm file to read it with locks, so it reads the file
	// without any, which is only right while nobody writes (see
	// changedSinceOpen).
	readImmutable
)

func openMode(path string, mode int) (*Store, error) {
	if path == "" {
		path = DefaultDBPath()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("tracking: open %s: %w", path, err)
	}
	if err := checkHeader(abs); err != nil {
		return nil, err
	}
	var stamp os.FileInfo
	if mode == readImmutable {
		if stamp, err = os.Stat(abs); err != nil {
			return nil, fmt.Errorf("tracking: open %s: %w", abs, err)
		}
	}
	db, err := sql.Open(driverName, dsnMode(abs, mode))
	if err != nil {
		return nil, fmt.Errorf("tracking: open %s: %w", abs, err)
	}
	// Readers run concurrently in WAL mode; writers are serialized by
	// writeMu anyway, so a small pool is enough.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &Store{
		db:            db,
		path:          abs,
		artifactDir:   abs + ".artifacts",
		open:          make(map[*Run]struct{}),
		batchSize:     DefaultBatchSize,
		flushInterval: DefaultFlushInterval,
		kick:          make(chan struct{}, 1),
		done:          make(chan struct{}),
		ckptDone:      make(chan struct{}),
		mode:          mode,
		stamp:         stamp,
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, s.diagnose(err)
	}
	if mode == readWrite {
		n, err := s.ReapOrphans()
		if err != nil {
			db.Close()
			return nil, s.diagnose(err)
		}
		s.reaped = n
	}
	go s.checkpointer()
	return s, nil
}

// notWritableError is an Open that failed because this process cannot
// write the database or its directory; openForReading then reads it
// read-only.
type notWritableError struct{ msg string }

func (e *notWritableError) Error() string { return e.msg }

func notWritable(format string, args ...any) error {
	return &notWritableError{fmt.Sprintf(format, args...)}
}

// diagnose turns SQLite's account of a failure to open (which, for a
// directory without write permission, is "unable to open database file:
// no such file or directory" or "attempt to write a readonly database")
// into what the user can fix: a directory or file they cannot write.
func (s *Store) diagnose(err error) error {
	var se sqlite3.Error
	if s.mode != readWrite || !errors.As(err, &se) ||
		(se.Code != sqlite3.ErrCantOpen && se.Code != sqlite3.ErrReadonly && se.Code != sqlite3.ErrPerm) {
		return err
	}
	dir := filepath.Dir(s.path)
	if _, serr := os.Stat(s.path); errors.Is(serr, os.ErrNotExist) {
		if _, derr := os.Stat(dir); errors.Is(derr, os.ErrNotExist) {
			return fmt.Errorf("tracking: create %s: the directory %s does not exist", s.path, dir)
		}
		if werr := probeDir(dir); werr != nil {
			return notWritable("tracking: create %s: the directory %s is not writable (%s)", s.path, dir, permText(werr))
		}
		return err
	}
	// WAL mode keeps the log and its index in files beside the
	// database, which even a reader must be able to create.
	if werr := probeDir(dir); werr != nil {
		return notWritable("tracking: open %s: the directory %s is not writable (%s), and SQLite keeps the database's write-ahead log (%s-wal, %s-shm) beside it",
			s.path, dir, permText(werr), filepath.Base(s.path), filepath.Base(s.path))
	}
	for _, p := range []string{s.path, s.path + "-wal", s.path + "-shm"} {
		f, ferr := os.OpenFile(p, os.O_WRONLY, 0)
		if ferr == nil {
			f.Close()
			continue
		}
		if !errors.Is(ferr, os.ErrNotExist) {
			return notWritable("tracking: open %s: %s is not writable (%s)", s.path, p, permText(ferr))
		}
	}
	return err
}

// probeDir checks that a file can be created in dir.
func probeDir(dir string) error {
	f, err := os.CreateTemp(dir, ".gopherlab-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// permText is the reason of a failed file operation, without the path
// the message already names.
func permText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// OpenExisting opens the database at path for a program that only reads
// it: unlike Open, it does not create one. An empty path means
// DefaultDBPath(), as for Open. A missing or empty file is an error
// naming the path; where this process cannot write the database or its
// directory, the database is opened read-only.
func OpenExisting(path string) (*Store, error) {
	if path == "" {
		path = DefaultDBPath()
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().IsRegular() && st.Size() == 0 {
		why := "no tracking database"
		if err == nil {
			why = "empty file, not a tracking database,"
		}
		return nil, fmt.Errorf("%s at %s (use -db PATH or set %s)", why, path, EnvDB)
	}
	return openForReading(path)
}

// openForReading opens an existing database for a command that only
// reads it. Where this process cannot write (a shared database in
// another user's directory, a read-only mount), it opens it read-only
// instead of failing: with the writer's -shm file when a writer has the
// database open, else immutable (see changedSinceOpen).
func openForReading(path string) (*Store, error) {
	s, err := Open(path)
	var nw *notWritableError
	if !errors.As(err, &nw) {
		return s, err
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		return nil, err
	}
	mode := readImmutable
	if _, werr := os.Stat(abs + "-wal"); werr == nil {
		mode = readOnly
	}
	s, rerr := openMode(abs, mode)
	if rerr != nil {
		return nil, fmt.Errorf("%w; reading it read-only failed too: %v", err, rerr)
	}
	return s, nil
}

// changedSinceOpen reports whether a database opened immutable may have
// changed since: a writer opened it (its -wal file appeared) or the file
// itself changed. What was read may then be a mix of old and new pages,
// or miss the writer's runs, and should be read again (the next
// openForReading uses the writer's -shm file). Other stores never change
// under their reads.
func (s *Store) changedSinceOpen() bool {
	if s.mode != readImmutable {
		return false
	}
	if _, err := os.Stat(s.path + "-wal"); err == nil {
		return true
	}
	st, err := os.Stat(s.path)
	return err != nil || st.Size() != s.stamp.Size() || !st.ModTime().Equal(s.stamp.ModTime())
}

// checkpointer copies committed WAL frames into the database file in the
// background. PASSIVE never blocks writers or readers, but with a writer
// that never pauses it also never catches up, and SQLite only rewinds the
// WAL once every frame has been copied: so when the log has grown past
// walRestartFrames, a RESTART checkpoint runs while this process's writers
// wait on writeMu (writers of other processes are waited for by SQLite),
// copying the few frames the passive round left and letting the next
// commit start the WAL from the beginning again.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		case <-tick.C:
		}
		s.mu.Lock()
		dirty := s.commits > 0
		s.commits = 0
		s.mu.Unlock()
		if !dirty {
			continue
		}
		var busy, frames, copied int
		if err := s.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			continue // best effort; retried next round
		}
		if frames > walRestartFrames {
			s.writeMu.Lock()
			s.db.Exec(`PRAGMA wal_checkpoint(RESTART)`)
			s.writeMu.Unlock()
		}
	}
}

// walRestartFrames bounds the WAL to about this many pages (4 KiB each).
const walRestartFrames = 4096

// committed notes a write transaction for the checkpointer.
func (s *Store) committed() {
	s.mu.Lock()
	s.commits++
	wake := s.commits >= checkpointEvery
	s.mu.Unlock()
	if wake {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// dsn builds the connection string. Every connection gets a busy timeout,
// synchronous=NORMAL (safe in WAL mode: a crash loses at most the last
// commits, never consistency), foreign keys, case-sensitive LIKE, and
// BEGIN IMMEDIATE for transactions so a writer takes the write lock up
// front instead of failing to upgrade a read lock later, which busy
// timeouts cannot fix.
func dsn(path string) string {
	return dsnMode(path, readWrite)
}

// dsnMode is dsn for an access mode. A read-only connection opens the
// file with mode=ro and never asks for the write lock (BEGIN DEFERRED);
// an immutable one also reads without locks or the write-ahead log.
func dsnMode(path string, mode int) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	d := "file:" + r.Replace(path) +
		"?_busy_timeout=" + strconv.Itoa(int(busyTimeout/time.Millisecond)) +
		"&_synchronous=NORMAL&_foreign_keys=1&_cslike=1"
	switch mode {
	case readOnly:
		return d + "&mode=ro&_txlock=deferred"
	case readImmutable:
		return d + "&mode=ro&immutable=1&_txlock=deferred"
	}
	return d + "&_txlock=immediate"
}

var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader rejects an existing non-empty file that is not SQLite before
// SQLite gets a chance to touch it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tracking: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("tracking: open %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("tracking: open %s: is a directory", path)
	}
	if st.Size() == 0 {
		return nil
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("tracking: open %s: %w", path, err)
	}
	if n < 100 || !bytes.Equal(head[:16], sqliteMagic) {
		return fmt.Errorf("tracking: open %s: %w: the file is not a SQLite database; it was left untouched (choose another path: %%tracking PATH in a notebook, -db or %s elsewhere)", path, ErrNotDatabase, EnvDB)
	}
	return nil
}

// init checks that the database is ours (or empty), switches it to WAL
// and applies pending migrations. Nothing is written before the checks pass.
func (s *Store) init() error {
	version, err := s.inspect()
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("tracking: open %s: schema version %d is newer than this gopherlab supports (%d); upgrade gopherlab", s.path, version, SchemaVersion)
	}
	if s.mode != readWrite {
		// Nothing may be written: the database must be current already.
		if version == 0 {
			return fmt.Errorf("tracking: open %s read-only: the database is empty", s.path)
		}
		if version < SchemaVersion {
			return fmt.Errorf("tracking: open %s read-only: schema version %d must first be migrated to %d, which needs write access: open it once with a gopherlab that can write its directory", s.path, version, SchemaVersion)
		}
		return nil
	}
	if err := s.retryBusy(func() error {
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
			return err
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("journal mode is %q, want wal", mode)
		}
		return nil
	}); err != nil {
		return s.wrap("enable WAL", err)
	}
	if version == SchemaVersion {
		return nil
	}
	return s.migrate(SchemaVersion)
}

// inspect returns the schema version of the database (0 for an empty
// one) or an error if the file is damaged or belongs to something else.
func (s *Store) inspect() (int, error) {
	// One read transaction, so the header and the table list come from
	// the same snapshot: another process creating the database between
	// two separate reads would make it look like someone else's.
	tx, err := s.db.Begin()
	if err != nil {
		return 0, s.wrap("read header", err)
	}
	defer tx.Rollback()
	var appID int64
	if err := tx.QueryRow(`PRAGMA application_id`).Scan(&appID); err != nil {
		return 0, s.wrap("read header", err)
	}
	rows, err := tx.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return 0, s.wrap("read schema", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return 0, s.wrap("read schema", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, s.wrap("read schema", err)
	}
	if len(tables) == 0 && appID == 0 {
		return 0, nil
	}
	hasVersion := false
	for _, t := range tables {
		if t == "schema_version" {
			hasVersion = true
		}
	}
	if appID != applicationID || !hasVersion {
		shown := tables
		if len(shown) > 5 {
			shown = append(shown[:5:5], "...")
		}
		return 0, fmt.Errorf("tracking: open %s: %w: it is a SQLite database of another application (application_id %d, tables %s); it was left untouched (choose another path: %%tracking PATH in a notebook, -db or %s elsewhere)",
			s.path, ErrNotDatabase, appID, strings.Join(shown, ", "), EnvDB)
	}
	var v int
	if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, s.wrap("read schema version", err)
	}
	return v, nil
}

// migrate applies the migrations after the current version up to target,
// each in one transaction. The version is re-read inside the transaction,
// so processes opening a new database at the same time do not collide.
func (s *Store) migrate(target int) error {
	for _, m := range migrations {
		if m.version > target {
			break
		}
		err := s.writeTx(func(tx *sql.Tx) error {
			if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
				version INTEGER PRIMARY KEY,
				name    TEXT    NOT NULL,
				applied INTEGER NOT NULL)`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
				return err
			}
			if cur >= m.version {
				return nil
			}
			if cur != m.version-1 {
				return fmt.Errorf("schema version %d cannot be migrated to %d", cur, m.version)
			}
			for _, st := range m.stmts {
				if _, err := tx.Exec(st); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
			_, err := tx.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)`,
				m.version, m.name, nowMillis())
			return err
		})
		if err != nil {
			return s.wrap(fmt.Sprintf("migrate to schema %d", m.version), err)
		}
	}
	return nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// ArtifactDir returns the directory that holds artifact files: the
// database path followed by ".artifacts".
func (s *Store) ArtifactDir() string { return s.artifactDir }

// Reaped returns how many orphaned runs Open marked KILLED.
func (s *Store) Reaped() int { return s.reaped }

// SetBatching sets how many metric points a run buffers before writing
// them (size, at least 1) and how long a point may wait in memory
// (interval; 0 means only size and Flush/End write). It applies to runs
// started afterwards.
func (s *Store) SetBatching(size int, interval time.Duration) {
	if size < 1 {
		size = 1
	}
	if interval < 0 {
		interval = 0
	}
	s.mu.Lock()
	s.batchSize, s.flushInterval = size, interval
	s.mu.Unlock()
}

// IntegrityCheck runs SQLite's full integrity check and returns an error
// describing the first problems, if any.
func (s *Store) IntegrityCheck() error {
	s.catchUp()
	rows, err := s.db.Query(`PRAGMA integrity_check`)
	if err != nil {
		return s.wrap("integrity check", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return s.wrap("integrity check", err)
		}
		if m != "ok" {
			msgs = append(msgs, m)
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap("integrity check", err)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("tracking: %s: %w: %s", s.path, ErrCorrupt, strings.Join(msgs, "; "))
	}
	return nil
}

// Close ends the runs of this store that are still open, marking them
// KILLED after writing their buffered metrics, and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	runs := make([]*Run, 0, len(s.open))
	for r := range s.open {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	var first error
	for _, r := range runs {
		if err := r.end(StatusKilled, "the store was closed before the run ended"); err != nil && first == nil {
			first = err
		}
	}
	s.mu.Lock()
	s.closed = true
	s.shut.Store(true)
	s.mu.Unlock()
	close(s.done)
	<-s.ckptDone
	// The last connection to close checkpoints and removes the WAL if no
	// other process has the database open; otherwise copy what we can.
	s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	if err := s.db.Close(); err != nil && first == nil {
		first = fmt.Errorf("tracking: close %s: %w", s.path, err)
	}
	return first
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE), retrying the
// whole transaction while the database is busy, up to lockWait. fn may run
// more than once and must only touch the transaction.
func (s *Store) writeTx(fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.retryBusy(func() error {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if s.kick != nil {
			s.committed()
		}
		return nil
	})
}

// retryBusy calls fn until it succeeds, fails with an error other than
// SQLITE_BUSY/SQLITE_LOCKED, or lockWait has passed.
func (s *Store) retryBusy(fn func() error) error {
	deadline := time.Now().Add(lockWait)
	backoff := time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(backoff/2 + rand.N(backoff))
		if backoff < 50*time.Millisecond {
			backoff *= 2
		}
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// wrap gives SQLite errors context and maps damage to ErrCorrupt.
func (s *Store) wrap(what string, err error) error {
	if s.shut.Load() {
		// database/sql's own "database is closed" is not one of ours.
		return fmt.Errorf("tracking: %s %s: %w", what, s.path, ErrClosed)
	}
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("tracking: %s %s: %w (%v); the file was left untouched: restore it from a backup or choose another path", what, s.path, ErrCorrupt, err)
	}
	return fmt.Errorf("tracking: %s %s: %w", what, s.path, err)
}

func nowMillis() int64 { return time.Now().UnixMilli() }

func millisTime(ms int64) time.Time { return time.UnixMilli(ms) }
