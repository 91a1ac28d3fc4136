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
	"path/filepath"
	"time"
)

// ArtifactInfo describes a file attached to a run. The content lives once
// per distinct SHA-256 under the store's ArtifactDir, at Path (relative,
// slash-separated: sha256/ab/cdef...).
type ArtifactInfo struct {
	RunID   string    // run the artifact belongs to
	Name    string    // unique per run; logging the name again replaces it
	Kind    string    // free text: "model", "plot", "predictions", ...
	SHA256  string    // hex SHA-256 of the content
	Size    int64     // bytes
	Path    string    // relative to ArtifactDir: sha256/ab/cdef...
	Created time.Time // when it was logged under this name (ms precision)
}

// LogArtifact attaches data to the run under name (replacing an earlier
// artifact of that name). Identical content is stored once.
func (r *Run) LogArtifact(name, kind string, data []byte) error {
	// Content in memory is hashed first: when the store has it already
	// (the same model fitted again), nothing is written to disk.
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	rel := blobPath(hexSum)
	if st, err := os.Stat(filepath.Join(r.store.artifactDir, filepath.FromSlash(rel))); err == nil && st.Size() == int64(len(data)) {
		return r.recordArtifact(name, kind, hexSum, int64(len(data)), rel)
	}
	return r.logArtifact(name, kind, bytes.NewReader(data))
}

func blobPath(sum string) string { return "sha256/" + sum[:2] + "/" + sum[2:] }

// LogArtifactFile attaches a copy of the file at path to the run.
func (r *Run) LogArtifactFile(name, kind, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tracking: run %s: artifact %q: %w", r.id, name, err)
	}
	defer f.Close()
	return r.logArtifact(name, kind, f)
}

func (r *Run) logArtifact(name, kind string, src io.Reader) error {
	// Checked before the blob is stored, so an ended run stores nothing.
	if err := r.checkArtifact(name); err != nil {
		return err
	}
	sum, size, rel, err := r.store.storeBlob(src)
	if err != nil {
		return fmt.Errorf("tracking: run %s: artifact %q: %w", r.id, name, err)
	}
	return r.recordArtifact(name, kind, sum, size, rel)
}

// checkArtifact checks that an artifact named name can be recorded.
func (r *Run) checkArtifact(name string) error {
	if name == "" {
		return fmt.Errorf("tracking: run %s: empty artifact name", r.id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkOpenLocked()
}

// recordArtifact records a stored blob as the run's artifact name.
func (r *Run) recordArtifact(name, kind, sum string, size int64, rel string) error {
	if err := r.checkArtifact(name); err != nil {
		return err
	}
	err := r.store.writeTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO artifacts (run_id, name, kind, sha256, size, path, created) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(run_id, name) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256,
				size = excluded.size, path = excluded.path, created = excluded.created`,
			r.id, name, kind, sum, size, rel, nowMillis())
		return err
	})
	if err != nil {
		return r.store.wrap("log artifact in", err)
	}
	return nil
}

// storeBlob copies src into the content-addressed directory and returns
// its hash, size and relative path. The file appears atomically (written
// to a temporary file, synced, then renamed), so a crash never leaves a
// partial file under a hash name.
func (s *Store) storeBlob(src io.Reader) (sum string, size int64, rel string, err error) {
	tmpDir := filepath.Join(s.artifactDir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return "", 0, "", err
	}
	tmp, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return "", 0, "", err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return "", 0, "", err
	}
	sum = hex.EncodeToString(h.Sum(nil))
	rel = blobPath(sum)
	final := filepath.Join(s.artifactDir, filepath.FromSlash(rel))
	if st, err := os.Stat(final); err == nil && st.Size() == size {
		return sum, size, rel, nil // already stored
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, "", err
	}
	if err := tmp.Close(); err != nil {
		return "", 0, "", err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", 0, "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, "", err
	}
	tmp = nil
	return sum, size, rel, nil
}

// Artifacts lists the artifacts of a run (an id or unique id prefix), by
// name.
func (s *Store) Artifacts(runID string) ([]ArtifactInfo, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT run_id, name, kind, sha256, size, path, created FROM artifacts WHERE run_id = ? ORDER BY name`, runID)
	if err != nil {
		return nil, s.wrap("list artifacts in", err)
	}
	defer rows.Close()
	var out []ArtifactInfo
	for rows.Next() {
		var a ArtifactInfo
		var created int64
		if err := rows.Scan(&a.RunID, &a.Name, &a.Kind, &a.SHA256, &a.Size, &a.Path, &created); err != nil {
			return nil, s.wrap("list artifacts in", err)
		}
		a.Created = millisTime(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list artifacts in", err)
	}
	return out, nil
}

// ArtifactFile returns the absolute path of a run's artifact file; runID
// may be a unique id prefix. Treat the file as read-only: other runs may
// share it.
func (s *Store) ArtifactFile(runID, name string) (string, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return "", err
	}
	var rel string
	err = s.db.QueryRow(`SELECT path FROM artifacts WHERE run_id = ? AND name = ?`, runID, name).Scan(&rel)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("tracking: artifact %q of run %s: %w", name, runID, ErrNotFound)
	}
	if err != nil {
		return "", s.wrap("find artifact in", err)
	}
	return filepath.Join(s.artifactDir, filepath.FromSlash(rel)), nil
}

// ReadArtifact returns the content of a run's artifact, checked against
// its recorded SHA-256.
func (s *Store) ReadArtifact(runID, name string) ([]byte, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	var rel, want string
	err = s.db.QueryRow(`SELECT path, sha256 FROM artifacts WHERE run_id = ? AND name = ?`, runID, name).Scan(&rel, &want)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tracking: artifact %q of run %s: %w", name, runID, ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap("find artifact in", err)
	}
	data, err := os.ReadFile(filepath.Join(s.artifactDir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("tracking: artifact %q of run %s: %w", name, runID, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != want {
		return nil, fmt.Errorf("tracking: artifact %q of run %s: %w: content does not match its SHA-256 %s", name, runID, ErrCorrupt, want)
	}
	return data, nil
}
