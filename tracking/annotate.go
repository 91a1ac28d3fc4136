package tracking

import (
	"database/sql"
	"fmt"
)

// SetRunTags sets tags on a run, ended or not (runID is an id or unique
// id prefix), replacing earlier values of the same keys: a check made
// after the run, such as an exported job comparing its run with the
// notebook run it reproduces, records its outcome on the run.
func (s *Store) SetRunTags(runID string, tags map[string]string) error {
	for k := range tags {
		if k == "" {
			return fmt.Errorf("tracking: run %s: empty tag key", runID)
		}
	}
	id, err := s.runID(runID)
	if err != nil {
		return err
	}
	if err := s.writeTx(func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM runs WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("run %s: %w", runID, ErrNotFound)
		}
		return upsertTags(tx, id, tags)
	}); err != nil {
		return s.wrap("set tags in", err)
	}
	return nil
}

// FailFinishedRun marks a FINISHED run FAILED with msg as its error,
// keeping its end time: a check made after the run found that its result
// is not what it should be (as MLflow marks FAILED the run of an entry
// point that exits with an error). A run that is not FINISHED is left as
// it is; changed says whether the run was.
func (s *Store) FailFinishedRun(runID, msg string) (changed bool, err error) {
	id, err := s.runID(runID)
	if err != nil {
		return false, err
	}
	if err := s.writeTx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE runs SET status = ?, error = ? WHERE id = ? AND status = ?`, StatusFailed, msg, id, StatusFinished)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	}); err != nil {
		return false, s.wrap("fail run in", err)
	}
	return changed, nil
}

// FailRun marks a run FAILED with msg as its error, whatever it ended
// as: a program about to exit with an error (an exported job whose cell
// failed) fails the runs it logged, as the kernel fails the runs of a
// failing cell. A run that ended (FINISHED, or KILLED when its store
// closed under it) keeps its end time; one still RUNNING ends now. A run
// already FAILED is left as it is, with its own error; changed says
// whether the run was changed.
func (s *Store) FailRun(runID, msg string) (changed bool, err error) {
	id, err := s.runID(runID)
	if err != nil {
		return false, err
	}
	if err := s.writeTx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE runs SET status = ?, error = ?, end_time = COALESCE(end_time, ?) WHERE id = ? AND status <> ?`, StatusFailed, msg, nowMillis(), id, StatusFailed)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	}); err != nil {
		return false, s.wrap("fail run in", err)
	}
	return changed, nil
}
