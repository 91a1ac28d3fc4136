package experiments

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gopherlab/gopherlab/internal/atomicfile"
	"gonum.org/v1/gonum/mat"
)

// Step is one named step of a Pipeline: a Transformer, a
// DatasetTransformer, or (last) a Model.
type Step struct {
	Name      string // unique in the pipeline; the "step" of "step.Field" parameter names
	Estimator any    // the transformer or model, such as &StandardScaler{}
}

// SchemaColumn is one input column a fitted Pipeline expects.
type SchemaColumn struct {
	Name string // column name; "c0", "c1"... for a pipeline fitted on a matrix
	Kind Kind   // column type; a dataset column of another Kind is an error
	// Levels says how the values of a categorical column became the
	// levels the pipeline was fitted on, so that a server fed raw values
	// reads them the same way; LevelsUnrecorded for numeric columns and
	// in pipelines saved before it was recorded (format version 4 and
	// earlier).
	Levels LevelForm
}

// LevelForm is how a categorical column's values became its levels.
type LevelForm int

const (
	// LevelsUnrecorded: not known (a numeric column, or a pipeline saved
	// by a version of this package that did not record it).
	LevelsUnrecorded LevelForm = iota
	// LevelsAsWritten: each value (spaces trimmed, if read by ReadCSV)
	// is its level, "7.0" and "7" being two levels: a column named in
	// CSVOptions.Categorical, or one made from strings (AddStrings,
	// AddLevels).
	LevelsAsWritten
	// LevelsNumbers: a number is the level of its shortest form
	// (NumberLevel: "007", "7.0" and "7" are the level "7"), as ReadCSV
	// reads a column it made categorical because a value is not a
	// number.
	LevelsNumbers
)

// String returns "unrecorded", "as written" or "numbers".
func (f LevelForm) String() string {
	switch f {
	case LevelsUnrecorded:
		return "unrecorded"
	case LevelsAsWritten:
		return "as written"
	case LevelsNumbers:
		return "numbers"
	}
	return "LevelForm(" + strconv.Itoa(int(f)) + ")"
}

// levelForm is how the values of a dataset column became its levels.
func (c *column) levelForm() LevelForm {
	switch {
	case c.kind != Categorical:
		return LevelsUnrecorded
	case c.numbered:
		return LevelsNumbers
	}
	return LevelsAsWritten
}

// Pipeline chains transforms and a final model, like scikit-learn's
// Pipeline: Fit fits each step on the output of the previous ones, and
// Predict applies the fitted steps in order. Dataset steps (OneHotEncoder)
// come first, then matrix steps (scalers, imputers), then the model.
//
// A fitted pipeline remembers its input schema (column names and types)
// and checks it on prediction; Save writes the whole fitted pipeline and
// Load reads it back with bit-identical predictions.
type Pipeline struct {
	Steps []Step // in order, the model last; NewPipeline names them

	st pipelineState
}

type pipelineState struct {
	Fitted       bool
	Schema       []SchemaColumn
	FromDataset  bool
	Target       string
	TargetLevels []string
}

// NewPipeline returns a pipeline of the given estimators, naming each step
// after its type in lower case ("standardscaler", "logisticregression"),
// like scikit-learn's make_pipeline.
func NewPipeline(estimators ...any) *Pipeline {
	p := &Pipeline{}
	seen := map[string]int{}
	for _, e := range estimators {
		name := modelName(e)
		seen[name]++
		if seen[name] > 1 {
			name += "-" + strconv.Itoa(seen[name])
		}
		p.Steps = append(p.Steps, Step{Name: name, Estimator: e})
	}
	return p
}

func (p *Pipeline) stepNames() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name
	}
	return out
}

// validate checks the step layout and returns the number of leading
// dataset steps.
func (p *Pipeline) validate(op string) (int, Model, error) {
	if len(p.Steps) == 0 {
		return 0, nil, fmt.Errorf("experiments: %s: pipeline has no steps", op)
	}
	last := p.Steps[len(p.Steps)-1]
	model, ok := last.Estimator.(Model)
	if !ok {
		return 0, nil, fmt.Errorf("experiments: %s: last step %q (%T) is not a model%s", op, last.Name, last.Estimator, cellTypeHint(last.Estimator))
	}
	nds := 0
	names := map[string]bool{}
	for i, s := range p.Steps {
		if names[s.Name] {
			return 0, nil, fmt.Errorf("experiments: %s: two steps named %q", op, s.Name)
		}
		names[s.Name] = true
		if i == len(p.Steps)-1 {
			break
		}
		_, isDS := s.Estimator.(DatasetTransformer)
		_, isM := s.Estimator.(Transformer)
		switch {
		case isDS && nds == i:
			nds++
		case isM:
		case isDS:
			return 0, nil, fmt.Errorf("experiments: %s: dataset step %q (%T) must come before matrix steps", op, s.Name, s.Estimator)
		default:
			return 0, nil, fmt.Errorf("experiments: %s: step %q (%T) is not a transformer%s", op, s.Name, s.Estimator, cellTypeHint(s.Estimator))
		}
	}
	return nds, model, nil
}

// transform runs the transform steps on ds (dataset input) or X. With fit
// it fits each step first.
func (p *Pipeline) transform(op string, ds *Dataset, X *mat.Dense, fit bool) (*mat.Dense, Model, error) {
	nds, model, err := p.validate(op)
	if err != nil {
		return nil, nil, err
	}
	names := schemaNames(p.st.Schema)
	if ds == nil && nds > 0 {
		names := make([]string, len(p.st.Schema))
		for i, c := range p.st.Schema {
			names[i] = c.Name
		}
		if ds, err = FromMatrix(X, names); err != nil {
			return nil, nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
	}
	if ds != nil {
		for _, s := range p.Steps[:nds] {
			t := s.Estimator.(DatasetTransformer)
			if fit {
				if err := t.FitDataset(ds); err != nil {
					return nil, nil, fmt.Errorf("experiments: %s: step %q: %w", op, s.Name, unwrapPrefix(err))
				}
			}
			if ds, err = t.TransformDataset(ds); err != nil {
				return nil, nil, fmt.Errorf("experiments: %s: step %q: %w", op, s.Name, unwrapPrefix(err))
			}
		}
		if X, err = ds.Matrix(); err != nil {
			return nil, nil, fmt.Errorf("experiments: %s: %w", op, unwrapPrefix(err))
		}
		names = ds.Columns()
	}
	for _, s := range p.Steps[nds : len(p.Steps)-1] {
		t := s.Estimator.(Transformer)
		if fit {
			if err := t.Fit(X); err != nil {
				return nil, nil, fmt.Errorf("experiments: %s: step %q: %w", op, s.Name, unwrapPrefix(err))
			}
		}
		if X, err = t.Transform(X); err != nil {
			return nil, nil, fmt.Errorf("experiments: %s: step %q: %w", op, s.Name, unwrapPrefix(err))
		}
	}
	// Matrix steps keep columns in place, so a value the model cannot
	// take is reported under the column name the user knows.
	if err := checkFiniteNamed(op, X, names); err != nil {
		return nil, nil, err
	}
	return X, model, nil
}

// Fit fits the pipeline on a feature matrix (columns named c0, c1, ...).
func (p *Pipeline) Fit(X *mat.Dense, y []float64) error { return trackFit(p, X, y, p.fitRaw) }

func (p *Pipeline) fitRaw(X *mat.Dense, y []float64) error {
	const op = "fit pipeline"
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	_, c := X.Dims()
	p.st = pipelineState{}
	for j := 0; j < c; j++ {
		p.st.Schema = append(p.st.Schema, SchemaColumn{Name: "c" + strconv.Itoa(j), Kind: Numeric})
	}
	return p.fit(op, nil, X, y)
}

func (p *Pipeline) fit(op string, ds *Dataset, X *mat.Dense, y []float64) error {
	return safe(op, func() error {
		Xt, model, err := p.transform(op, ds, X, true)
		if err != nil {
			return err
		}
		if err := fitModel(model, Xt, y); err != nil {
			return fmt.Errorf("experiments: %s: step %q: %w", op, p.Steps[len(p.Steps)-1].Name, unwrapPrefix(err))
		}
		p.st.Fitted = true
		return nil
	})
}

// FitDataset fits the pipeline on a dataset: every column but target is
// an input (its name and type become the pipeline's schema). An empty
// target fits without labels (clustering).
func (p *Pipeline) FitDataset(ds *Dataset, target string) error {
	return trackFitDataset(p, ds, target)
}

func (p *Pipeline) fitDatasetRaw(ds *Dataset, target string) error {
	const op = "fit pipeline"
	if ds == nil || ds.rows == 0 {
		return fmt.Errorf("experiments: %s: dataset is empty", op)
	}
	var y []float64
	feats := ds
	st := pipelineState{FromDataset: true, Target: target}
	if target != "" {
		t, err := ds.col(target)
		if err != nil {
			return fmt.Errorf("experiments: %s: target: %w", op, unwrapPrefix(err))
		}
		if t.kind == Categorical {
			st.TargetLevels = slices.Clone(t.levels)
		}
		y = make([]float64, ds.rows)
		for i := range y {
			if t.missing(i) {
				return fmt.Errorf("experiments: %s: target %q is missing at row %d", op, target, i)
			}
			if t.kind == Numeric {
				y[i] = t.nums[i]
			} else {
				y[i] = float64(t.codes[i])
			}
		}
		if feats, err = ds.Drop(target); err != nil {
			return err
		}
	}
	for _, c := range feats.cols {
		st.Schema = append(st.Schema, SchemaColumn{Name: c.name, Kind: c.kind, Levels: c.levelForm()})
	}
	p.st = st
	return p.fit(op, feats, nil, y)
}

// checkSchema selects the schema's columns from ds, in order, or names
// the first column that is missing or has another type.
func (p *Pipeline) checkSchema(op string, ds *Dataset) (*Dataset, error) {
	if !p.st.Fitted {
		return nil, fmt.Errorf("experiments: %s: pipeline is not fitted (call Fit first)", op)
	}
	if ds == nil {
		return nil, fmt.Errorf("experiments: %s: nil dataset", op)
	}
	names := make([]string, len(p.st.Schema))
	var unread []int // categorical columns read as numeric with no value
	for i, sc := range p.st.Schema {
		c, err := ds.col(sc.Name)
		if err != nil && !p.st.FromDataset {
			// Fitted on a matrix: its columns had no names.
			return nil, fmt.Errorf("experiments: %s: the pipeline was fitted on a matrix (Fit(X, y)), whose columns have no names to find in a dataset: fit it with FitDataset(ds, target) to predict datasets, or predict a matrix with Predict", op)
		}
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: column %q is missing (the pipeline was fitted on columns %v)", op, sc.Name, schemaNames(p.st.Schema))
		}
		names[i] = sc.Name
		switch {
		case c.kind == sc.Kind:
		case sc.Kind == Categorical && c.allMissing():
			// A CSV reader cannot tell the kind of a column with no
			// value: missing values of a category are what it holds.
			unread = append(unread, i)
		case sc.Kind == Categorical:
			return nil, fmt.Errorf("experiments: %s: column %q is numeric (its values read as numbers), the pipeline was fitted with it categorical: read the data with CSVOptions{Categorical: []string{%q}}", op, sc.Name, sc.Name)
		default:
			return nil, fmt.Errorf("experiments: %s: column %q is %s, the pipeline was fitted with it %s", op, sc.Name, c.kind, sc.Kind)
		}
	}
	out, err := ds.Select(names...)
	if err != nil {
		return nil, err
	}
	for _, i := range unread {
		codes := make([]int32, out.rows)
		for k := range codes {
			codes[k] = -1
		}
		out.cols[i] = &column{name: names[i], kind: Categorical, codes: codes}
	}
	return out, nil
}

func schemaNames(s []SchemaColumn) []string {
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = c.Name
	}
	return out
}

func (p *Pipeline) checkMatrix(op string, X *mat.Dense) error {
	if !p.st.Fitted {
		return fmt.Errorf("experiments: %s: pipeline is not fitted (call Fit first)", op)
	}
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	for _, c := range p.st.Schema {
		if c.Kind != Numeric {
			return fmt.Errorf("experiments: %s: the pipeline was fitted on a dataset with categorical column %q: use PredictDataset", op, c.Name)
		}
	}
	if _, c := X.Dims(); c != len(p.st.Schema) {
		return fmt.Errorf("experiments: %s: X has %d columns, the pipeline was fitted on %d (%v)", op, c, len(p.st.Schema), schemaNames(p.st.Schema))
	}
	return nil
}

func (p *Pipeline) predict(op string, ds *Dataset, X *mat.Dense, proba bool) (pred []float64, pr *mat.Dense, err error) {
	err = safe(op, func() error {
		Xt, model, err := p.transform(op, ds, X, false)
		if err != nil {
			return err
		}
		if proba {
			c, ok := model.(Classifier)
			if !ok {
				return fmt.Errorf("experiments: %s: model %T has no class probabilities", op, model)
			}
			pr, err = c.PredictProba(Xt)
		} else {
			pred, err = model.Predict(Xt)
		}
		if err != nil {
			return fmt.Errorf("experiments: %s: step %q: %w", op, p.Steps[len(p.Steps)-1].Name, unwrapPrefix(err))
		}
		return nil
	})
	return pred, pr, err
}

// Predict applies the fitted pipeline to a feature matrix.
func (p *Pipeline) Predict(X *mat.Dense) ([]float64, error) {
	const op = "predict pipeline"
	if err := p.checkMatrix(op, X); err != nil {
		return nil, err
	}
	pred, _, err := p.predict(op, nil, X, false)
	if err == nil {
		notePredict(p, X, pred)
	}
	return pred, err
}

// PredictProba returns the final classifier's class probabilities.
func (p *Pipeline) PredictProba(X *mat.Dense) (*mat.Dense, error) {
	const op = "predict pipeline"
	if err := p.checkMatrix(op, X); err != nil {
		return nil, err
	}
	_, pr, err := p.predict(op, nil, X, true)
	if err == nil {
		notePredictProba(p, X, pr)
	}
	return pr, err
}

// PredictDataset applies the fitted pipeline to a dataset, which must
// have the columns (names and types) the pipeline was fitted on; other
// columns, such as the target, are ignored.
func (p *Pipeline) PredictDataset(ds *Dataset) ([]float64, error) {
	const op = "predict pipeline"
	sel, err := p.checkSchema(op, ds)
	if err != nil {
		return nil, err
	}
	pred, _, err := p.predict(op, sel, nil, false)
	if err == nil && len(pred) > 0 {
		notePredictDataset(p, ds, p.st.Target, &pred[0], len(pred))
	}
	return pred, err
}

// PredictProbaDataset returns class probabilities for a dataset.
func (p *Pipeline) PredictProbaDataset(ds *Dataset) (*mat.Dense, error) {
	const op = "predict pipeline"
	sel, err := p.checkSchema(op, ds)
	if err != nil {
		return nil, err
	}
	_, pr, err := p.predict(op, sel, nil, true)
	if err == nil && pr != nil {
		n, _ := pr.Dims()
		notePredictDataset(p, ds, p.st.Target, pr, n)
	}
	return pr, err
}

// PredictLabels predicts a dataset and returns the predictions as the
// target's levels when the target was categorical (else as numbers).
func (p *Pipeline) PredictLabels(ds *Dataset) ([]string, error) {
	pred, err := p.PredictDataset(ds)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(pred))
	for i, v := range pred {
		if k := int(v); p.st.TargetLevels != nil && float64(k) == v && k >= 0 && k < len(p.st.TargetLevels) {
			out[i] = p.st.TargetLevels[k]
		} else {
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return out, nil
}

// Classes returns the final classifier's classes (nil for a regressor).
func (p *Pipeline) Classes() []float64 {
	if len(p.Steps) == 0 {
		return nil
	}
	if c, ok := p.Steps[len(p.Steps)-1].Estimator.(Classifier); ok {
		return c.Classes()
	}
	return nil
}

// Schema returns the input columns the fitted pipeline expects.
func (p *Pipeline) Schema() []SchemaColumn { return slices.Clone(p.st.Schema) }

// TargetLevels returns the levels of a categorical target (nil if the
// target was numeric): class k is TargetLevels()[k].
func (p *Pipeline) TargetLevels() []string { return slices.Clone(p.st.TargetLevels) }

// Target is the name of the column a pipeline fitted on a dataset
// learned to predict ("" if it was fitted on a matrix, or not fitted).
func (p *Pipeline) Target() string { return p.st.Target }

// Step returns the estimator of the named step, to read its fitted state
// (coefficients, importances...).
func (p *Pipeline) Step(name string) (any, error) {
	for _, s := range p.Steps {
		if s.Name == name {
			return s.Estimator, nil
		}
	}
	return nil, fmt.Errorf("experiments: pipeline: no step %q (steps: %v)", name, p.stepNames())
}

// String lists the steps and their non-default parameters, like
// scikit-learn's repr: Pipeline(standardscaler, logisticregression{C: 10}).
func (p *Pipeline) String() string {
	var b strings.Builder
	b.WriteString("Pipeline(")
	for i, s := range p.Steps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Name)
		b.WriteString(paramString(s.Estimator))
	}
	b.WriteString(")")
	return b.String()
}

// paramString formats the non-zero exported fields of an estimator.
// Workers is left out: it says how a fit runs, not what it computes (the
// results are the same for any value), and an exported job sets it.
func paramString(e any) string {
	v := reflect.ValueOf(e)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	var parts []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.IsExported() && !v.Field(i).IsZero() && f.Name != "Workers" {
			parts = append(parts, fmt.Sprintf("%s: %v", f.Name, v.Field(i).Interface()))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// stateful is implemented by every estimator of this package: state
// returns a pointer to its fitted state (a struct of exported fields).
type stateful interface{ state() any }

// estimatorTypes lists the estimators Load can rebuild.
var estimatorTypes = map[string]func() stateful{}

func init() {
	for _, e := range []stateful{
		&SimpleImputer{}, &StandardScaler{}, &MinMaxScaler{}, &OneHotEncoder{},
		&LinearRegression{}, &Ridge{}, &LogisticRegression{},
		&KNeighborsClassifier{}, &KNeighborsRegressor{}, &GaussianNB{},
		&DecisionTreeClassifier{}, &DecisionTreeRegressor{},
		&RandomForestClassifier{}, &RandomForestRegressor{}, &KMeans{},
	} {
		t := reflect.TypeOf(e).Elem()
		estimatorTypes[t.Name()] = func() stateful { return reflect.New(t).Interface().(stateful) }
	}
}

// pipelineFormat identifies saved pipelines; pipelineVersion changes when
// the format does. Version 1 held every step in gob; version 2 holds them
// in the binary encoding of encode.go, named by savedStep.Enc; version 3
// (written since) keeps trees' values for their leaves only (treeState).
// Version 4 adds Check, a CRC-32C of the content, so that a damaged file
// is refused instead of loading into a model that predicts otherwise.
// Version 5 records how each categorical input column's values became
// levels (SchemaColumn.Levels; LevelsUnrecorded in the versions before,
// which gob leaves zero). Load reads all five; an older reader refuses a
// newer version with a message naming it.
const (
	pipelineFormat  = "gopherlab/experiments.Pipeline"
	pipelineVersion = 5
)

type savedPipeline struct {
	Format  string
	Version int
	State   pipelineState
	Steps   []savedStep
	Check   uint32 // checksum of the rest (version 4 on)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of everything the pipeline is loaded from,
// each piece with its length so that bytes cannot move between pieces.
func (sp *savedPipeline) checksum() uint32 {
	var c uint32
	var n [8]byte
	put := func(b []byte) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		c = crc32.Update(c, castagnoli, n[:])
		c = crc32.Update(c, castagnoli, b)
	}
	str := func(s string) { put([]byte(s)) }
	str(sp.Format)
	str(strconv.Itoa(sp.Version))
	st := &sp.State
	str(strconv.FormatBool(st.Fitted) + strconv.FormatBool(st.FromDataset) + strconv.Itoa(len(st.Schema)) + "," + strconv.Itoa(len(st.TargetLevels)))
	for _, col := range st.Schema {
		str(col.Name)
		str(strconv.Itoa(int(col.Kind)))
		if sp.Version >= 5 {
			str(strconv.Itoa(int(col.Levels)))
		}
	}
	str(st.Target)
	for _, l := range st.TargetLevels {
		str(l)
	}
	str(strconv.Itoa(len(sp.Steps)))
	for _, s := range sp.Steps {
		str(s.Name)
		str(s.Type)
		str(s.Enc)
		put(s.Params)
		put(s.State)
	}
	return c
}

type savedStep struct {
	Name   string
	Type   string
	Enc    string // "": gob (version 1, or a kind binary does not cover); encBinary
	Params []byte // the estimator's exported fields
	State  []byte // its fitted state
}

// Save writes the fitted pipeline (parameters, fitted state and input
// schema) to w in a versioned encoding: a gob envelope whose steps are in
// a compact binary encoding, so that even a large forest is written at
// about the speed of copying it.
func (p *Pipeline) Save(w io.Writer) error {
	if !p.st.Fitted {
		return fmt.Errorf("experiments: save pipeline: pipeline is not fitted")
	}
	sp := savedPipeline{Format: pipelineFormat, Version: pipelineVersion, State: p.st}
	// The steps are encoded into one scratch buffer, reused across saves
	// (gob copies them out), so a large model costs no fresh memory here.
	scratch := saveScratch.Get().(*[]byte)
	defer saveScratch.Put(scratch)
	buf := (*scratch)[:0]
	for _, s := range p.Steps {
		e, ok := s.Estimator.(stateful)
		if !ok {
			return fmt.Errorf("experiments: save pipeline: step %q: %T cannot be saved (only this package's estimators can)", s.Name, s.Estimator)
		}
		var st savedStep
		var err error
		if st, buf, err = appendStep(buf, s.Name, e); err != nil {
			return err
		}
		sp.Steps = append(sp.Steps, st)
	}
	*scratch = buf
	sp.Check = sp.checksum()
	if err := gob.NewEncoder(w).Encode(sp); err != nil {
		return fmt.Errorf("experiments: save pipeline: %w", err)
	}
	return nil
}

var saveScratch = sync.Pool{New: func() any { return new([]byte) }}

// saveStep encodes e's parameters and state.
func saveStep(name string, e stateful) (savedStep, error) {
	st, _, err := appendStep(nil, name, e)
	return st, err
}

// appendStep encodes e's parameters and state, appending them to buf
// when it can: the step's Params and State then alias buf.
func appendStep(buf []byte, name string, e stateful) (savedStep, []byte, error) {
	st := savedStep{Name: name, Type: reflect.TypeOf(e).Elem().Name(), Enc: encBinary}
	start := len(buf)
	buf, err := appendBinary(buf, e)
	mid := len(buf)
	if err == nil {
		buf, err = appendBinary(buf, e.state())
	}
	if err == nil {
		st.Params, st.State = buf[start:mid:mid], buf[mid:]
		return st, buf, nil
	}
	buf = buf[:start]
	if !errors.Is(err, errNotBinary) {
		return st, buf, fmt.Errorf("experiments: save pipeline: step %q: %w", name, err)
	}
	// A field of a kind the binary encoding does not cover: gob it.
	st.Enc = ""
	var params, state bytes.Buffer
	if err := gob.NewEncoder(&params).Encode(withoutWorkers(e)); err != nil {
		return st, buf, fmt.Errorf("experiments: save pipeline: step %q parameters: %w", name, err)
	}
	if err := gob.NewEncoder(&state).Encode(e.state()); err != nil {
		return st, buf, fmt.Errorf("experiments: save pipeline: step %q state: %w", name, err)
	}
	st.Params, st.State = params.Bytes(), state.Bytes()
	return st, buf, nil
}

// withoutWorkers returns a copy of the struct e points to with its
// Workers field zero (see saved), or e itself when it has none.
func withoutWorkers(e any) any {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return e
	}
	f, ok := v.Elem().Type().FieldByName("Workers")
	if !ok || !f.IsExported() || len(f.Index) != 1 {
		return e
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	w := c.Elem().Field(f.Index[0])
	w.Set(reflect.Zero(w.Type()))
	return c.Interface()
}

// loadStep restores a step's parameters and state into e.
func loadStep(s savedStep, e stateful) error {
	switch s.Enc {
	case "":
		if err := gob.NewDecoder(bytes.NewReader(s.Params)).Decode(e); err != nil {
			return fmt.Errorf("experiments: load pipeline: step %q parameters: %w", s.Name, err)
		}
		if err := gob.NewDecoder(bytes.NewReader(s.State)).Decode(e.state()); err != nil {
			return fmt.Errorf("experiments: load pipeline: step %q state: %w", s.Name, err)
		}
	case encBinary:
		if err := decodeBinary(s.Params, e); err != nil {
			return fmt.Errorf("experiments: load pipeline: step %q parameters: %w", s.Name, err)
		}
		if err := decodeBinary(s.State, e.state()); err != nil {
			return fmt.Errorf("experiments: load pipeline: step %q state: %w", s.Name, err)
		}
	default:
		return fmt.Errorf("experiments: load pipeline: step %q has unknown encoding %q", s.Name, s.Enc)
	}
	if u, ok := e.state().(upgrader); ok {
		if err := u.upgrade(); err != nil {
			return fmt.Errorf("experiments: load pipeline: step %q: %w", s.Name, err)
		}
	}
	return nil
}

// upgrader is fitted state that older format versions laid out
// differently, or that can be checked once loaded: upgrade brings it up
// to date, or says what does not hold together.
type upgrader interface{ upgrade() error }

// SaveFile writes the fitted pipeline to a file.
func (p *Pipeline) SaveFile(path string) error {
	var saveErr error // Save's own, which names what failed
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		saveErr = p.Save(w)
		return saveErr
	})
	switch {
	case saveErr != nil:
		return saveErr
	case err != nil:
		return fmt.Errorf("experiments: save pipeline %s: %w", path, err)
	}
	return nil
}

// Load reads a pipeline written by Save.
func Load(r io.Reader) (*Pipeline, error) {
	var sp savedPipeline
	if err := gob.NewDecoder(r).Decode(&sp); err != nil {
		return nil, fmt.Errorf("experiments: load pipeline: not a saved pipeline: %w", err)
	}
	if sp.Format != pipelineFormat {
		return nil, fmt.Errorf("experiments: load pipeline: format %q, want %q", sp.Format, pipelineFormat)
	}
	if sp.Version < 1 || sp.Version > pipelineVersion {
		return nil, fmt.Errorf("experiments: load pipeline: format version %d, this package reads versions 1 to %d", sp.Version, pipelineVersion)
	}
	if sp.Version >= 4 && sp.Check != sp.checksum() {
		return nil, fmt.Errorf("experiments: load pipeline: the saved pipeline is damaged: its content does not match its checksum (it would not predict as the pipeline that was saved)")
	}
	if sp.Version == 1 {
		for i := range sp.Steps {
			sp.Steps[i].Enc = "" // version 1 is gob throughout
		}
	}
	p := &Pipeline{st: sp.State}
	for _, s := range sp.Steps {
		mk, ok := estimatorTypes[s.Type]
		if !ok {
			return nil, fmt.Errorf("experiments: load pipeline: step %q has unknown type %q", s.Name, s.Type)
		}
		e := mk()
		if err := loadStep(s, e); err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, Step{Name: s.Name, Estimator: e})
	}
	if _, _, err := p.validate("load pipeline"); err != nil {
		return nil, err
	}
	return p, nil
}

// LoadFile reads a pipeline saved with SaveFile.
func LoadFile(path string) (*Pipeline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("experiments: load pipeline: %w", err)
	}
	defer f.Close()
	return Load(f)
}
