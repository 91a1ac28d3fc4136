package experiments

// withDefaults is implemented by the estimators whose zero parameters
// stand for other values: it returns a copy with those values filled in,
// as Fit reads them, so that EstimatorParams (and so every tracked run)
// records the value that applied, C=1 rather than C=0. Zero values that
// mean no limit, every core, or a size the data decides (a forest's
// MaxFeatures) stay zero, as documented on each field.
type withDefaults interface {
	withDefaults() any
}

func (m *LogisticRegression) withDefaults() any {
	c := *m
	c.C = or(c.C, 1)
	c.MaxIter = or(c.MaxIter, 100)
	c.Tol = or(c.Tol, 1e-4)
	c.Penalty = or(c.Penalty, "l2")
	return &c
}

func (m *Ridge) withDefaults() any {
	c := *m
	c.Alpha = or(c.Alpha, 1)
	return &c
}

func (m *KMeans) withDefaults() any {
	c := *m
	c.K = or(c.K, 8)
	c.NInit = or(c.NInit, 10)
	c.MaxIter = or(c.MaxIter, 300)
	c.Tol = or(c.Tol, 1e-4)
	return &c
}

func (m *KNeighborsClassifier) withDefaults() any {
	c := *m
	c.K = or(c.K, 5)
	c.Weights = or(c.Weights, "uniform")
	return &c
}

func (m *KNeighborsRegressor) withDefaults() any {
	c := *m
	c.K = or(c.K, 5)
	c.Weights = or(c.Weights, "uniform")
	return &c
}

func (m *GaussianNB) withDefaults() any {
	c := *m
	c.VarSmoothing = or(c.VarSmoothing, 1e-9)
	return &c
}

func (m *SimpleImputer) withDefaults() any {
	c := *m
	c.Strategy = or(c.Strategy, "mean")
	return &c
}

func (m *MinMaxScaler) withDefaults() any {
	c := *m
	if c.Min == 0 && c.Max == 0 {
		c.Max = 1
	}
	return &c
}

func (m *DecisionTreeClassifier) withDefaults() any {
	c := *m
	c.Criterion = or(c.Criterion, "gini")
	c.MinSamplesSplit = max(c.MinSamplesSplit, 2)
	c.MinSamplesLeaf = max(c.MinSamplesLeaf, 1)
	return &c
}

func (m *DecisionTreeRegressor) withDefaults() any {
	c := *m
	c.MinSamplesSplit = max(c.MinSamplesSplit, 2)
	c.MinSamplesLeaf = max(c.MinSamplesLeaf, 1)
	return &c
}

func (m *RandomForestClassifier) withDefaults() any {
	c := *m
	c.NTrees = or(c.NTrees, 100)
	c.Criterion = or(c.Criterion, "gini")
	c.MinSamplesSplit = max(c.MinSamplesSplit, 2)
	c.MinSamplesLeaf = max(c.MinSamplesLeaf, 1)
	return &c
}

func (m *RandomForestRegressor) withDefaults() any {
	c := *m
	c.NTrees = or(c.NTrees, 100)
	c.MinSamplesSplit = max(c.MinSamplesSplit, 2)
	c.MinSamplesLeaf = max(c.MinSamplesLeaf, 1)
	return &c
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
