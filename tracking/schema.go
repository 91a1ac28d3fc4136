package tracking

// applicationID is written to the SQLite header (PRAGMA application_id) so a
// gopherlab database can be told apart from any other SQLite file. It spells
// "GLAB" in ASCII.
const applicationID = 0x474C4142

// migration is one step of the schema. Steps are applied in order, each in
// its own transaction together with its schema_version row, so a database
// is always at exactly one version.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations is the ordered list of schema steps. Never edit a step that has
// shipped: add a new one. SCHEMA.md describes the result.
var migrations = []migration{
	{1, "experiments, runs, params, metrics, tags, artifacts", []string{
		`PRAGMA application_id = 1196179778`,
		`CREATE TABLE experiments (
			id      INTEGER PRIMARY KEY,
			name    TEXT    NOT NULL UNIQUE,
			created INTEGER NOT NULL
		)`,
		`CREATE TABLE runs (
			id              TEXT    PRIMARY KEY,
			experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
			name            TEXT    NOT NULL DEFAULT '',
			status          TEXT    NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
			start_time      INTEGER NOT NULL,
			end_time        INTEGER,
			parent_run_id   TEXT    REFERENCES runs(id),
			error           TEXT    NOT NULL DEFAULT '',
			owner_pid       INTEGER NOT NULL DEFAULT 0,
			owner_start     INTEGER NOT NULL DEFAULT 0,
			owner_boot      TEXT    NOT NULL DEFAULT '',
			owner_host      TEXT    NOT NULL DEFAULT '',
			source          TEXT    NOT NULL DEFAULT '',
			notebook        TEXT    NOT NULL DEFAULT '',
			execution_count INTEGER NOT NULL DEFAULT 0,
			go_version      TEXT    NOT NULL DEFAULT '',
			modules         TEXT    NOT NULL DEFAULT '{}',
			seed            INTEGER
		)`,
		`CREATE INDEX runs_experiment_start ON runs(experiment_id, start_time)`,
		`CREATE INDEX runs_status ON runs(status)`,
		`CREATE INDEX runs_parent ON runs(parent_run_id)`,
		`CREATE TABLE params (
			run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			key    TEXT NOT NULL,
			value  TEXT NOT NULL,
			PRIMARY KEY (run_id, key)
		) WITHOUT ROWID`,
		`CREATE TABLE metrics (
			run_id    TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			key       TEXT    NOT NULL,
			value     REAL,
			step      INTEGER NOT NULL,
			timestamp INTEGER NOT NULL
		)`,
		`CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step)`,
		`CREATE TABLE tags (
			run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			key    TEXT NOT NULL,
			value  TEXT NOT NULL,
			PRIMARY KEY (run_id, key)
		) WITHOUT ROWID`,
		`CREATE TABLE artifacts (
			run_id  TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			name    TEXT    NOT NULL,
			kind    TEXT    NOT NULL DEFAULT '',
			sha256  TEXT    NOT NULL,
			size    INTEGER NOT NULL,
			path    TEXT    NOT NULL,
			created INTEGER NOT NULL,
			PRIMARY KEY (run_id, name)
		)`,
		`CREATE INDEX artifacts_sha256 ON artifacts(sha256)`,
	}},
	{2, "latest_metrics: latest value of each metric, for search and sorting", []string{
		`CREATE TABLE latest_metrics (
			run_id    TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			key       TEXT    NOT NULL,
			value     REAL,
			step      INTEGER NOT NULL,
			timestamp INTEGER NOT NULL,
			PRIMARY KEY (run_id, key)
		) WITHOUT ROWID`,
		`CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value)`,
		// Backfill from the history: latest = highest step, then newest
		// timestamp, then last inserted.
		`INSERT INTO latest_metrics (run_id, key, value, step, timestamp)
		 SELECT run_id, key, value, step, timestamp FROM (
			SELECT run_id, key, value, step, timestamp,
			       row_number() OVER (PARTITION BY run_id, key
			                          ORDER BY step DESC, timestamp DESC, rowid DESC) AS rn
			FROM metrics)
		 WHERE rn = 1`,
	}},
	{3, "datasets stored once by content hash, run_inputs", []string{
		`CREATE TABLE datasets (
			sha256  TEXT    PRIMARY KEY,
			rows    INTEGER NOT NULL,
			cols    INTEGER NOT NULL,
			schema  TEXT    NOT NULL DEFAULT '[]',
			format  TEXT    NOT NULL DEFAULT '',
			size    INTEGER NOT NULL,
			content BLOB    NOT NULL,
			created INTEGER NOT NULL
		)`,
		`CREATE TABLE run_inputs (
			run_id         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
			dataset_sha256 TEXT NOT NULL REFERENCES datasets(sha256),
			role           TEXT NOT NULL CHECK (role <> ''),
			name           TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (run_id, role, name)
		)`,
		`CREATE INDEX run_inputs_dataset ON run_inputs(dataset_sha256)`,
	}},
	{4, "run_inputs.levels: the levels of categorical columns", []string{
		// JSON array, one entry per column: the column's levels when it
		// was categorical, null when numeric; '' when all were numeric.
		`ALTER TABLE run_inputs ADD COLUMN levels TEXT NOT NULL DEFAULT ''`,
	}},
}

// SchemaVersion is the schema version this package creates and expects:
// the version of the last migration.
const SchemaVersion = 4
