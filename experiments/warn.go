package experiments

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Warnings receives one line per warning about a result that may not be
// what was asked, such as an optimizer that stopped before converging
// (scikit-learn's ConvergenceWarning). Nil discards them. It is
// os.Stderr by default, which a notebook cell shows. Set it before
// fitting, not while fits run.
var Warnings io.Writer = os.Stderr

// warnEvery is how long a warning is not repeated: the folds of a
// cross-validation or the trials of a grid search would otherwise repeat
// it once per fit.
const warnEvery = 10 * time.Second

var warned struct {
	sync.Mutex
	last map[string]time.Time
}

// warn writes "experiments: warning: msg" to Warnings, unless the same
// message went out less than warnEvery ago.
func warn(msg string) {
	w := Warnings
	if w == nil {
		return
	}
	now := time.Now()
	warned.Lock()
	if warned.last == nil {
		warned.last = map[string]time.Time{}
	}
	if t, ok := warned.last[msg]; ok && now.Sub(t) < warnEvery {
		warned.Unlock()
		return
	}
	warned.last[msg] = now
	warned.Unlock()
	fmt.Fprintf(w, "experiments: warning: %s\n", msg)
}
