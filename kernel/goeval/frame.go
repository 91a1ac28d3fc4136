package goeval

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// yaegi v0.16.1 keeps, for the life of the interpreter, every compiled
// syntax tree (Interpreter.roots) and every block scope compiled at the
// top level (the package scope's children), with their nodes, closures
// and the values they hold. Only its debugger reads them. frameKeeper
// drops them after each compilation.
//
// It also grows the global frame itself: yaegi's Execute copies the whole
// frame into a new one whenever a compilation added global slots, so a
// cell would cost more the longer the session; frameKeeper grows it in
// place with spare capacity before yaegi looks.
//
// Slots are never reused: yaegi's interface wrappers read a receiver from
// the slot of the expression that made it each time a method is called,
// so a temporary slot of top-level code may be read long after its unit
// ran. The kernel instead keeps temporaries out of the global frame (see
// unit.local and unit.declare).
//
// frameKeeper reaches into yaegi's unexported fields; newFrameKeeper
// checks their layout and the keeper does nothing when it differs
// (another yaegi version), which costs only memory and time.
type frameKeeper struct {
	ok bool

	mu    *sync.RWMutex    // the global frame's lock
	data  *[]reflect.Value // the global frame
	uni   *[]reflect.Type  // the global frame's layout (the universe scope's)
	pkg   *[]reflect.Type  // the same layout as the package scope holds it
	child reflect.Value    // the package scope's children (settable)
	roots reflect.Value    // Interpreter.roots (settable)
	sym   reflect.Value    // the package scope's symbols (map[string]*symbol)

	kindF, indexF int    // field indices in symbol
	varKind       uint64 // yaegi's varSym
}

// field returns a settable view of an addressable struct field, exported
// or not.
func field(v reflect.Value, name string) (reflect.Value, bool) {
	f := v.FieldByName(name)
	if !f.IsValid() || !f.CanAddr() {
		return reflect.Value{}, false
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), true
}

// newFrameKeeper returns the keeper of in's global frame. in must have
// compiled its first unit (the package scope exists).
func newFrameKeeper(in *interp.Interpreter) *frameKeeper {
	k := &frameKeeper{}
	iv := reflect.ValueOf(in).Elem()
	frame, ok1 := field(iv, "frame")
	universe, ok2 := field(iv, "universe")
	scopes, ok3 := field(iv, "scopes")
	roots, ok4 := field(iv, "roots")
	if !ok1 || !ok2 || !ok3 || !ok4 || frame.Kind() != reflect.Pointer || universe.Kind() != reflect.Pointer ||
		scopes.Kind() != reflect.Map || roots.Kind() != reflect.Slice || frame.IsNil() || universe.IsNil() {
		return k
	}
	pkgScope := scopes.MapIndex(reflect.ValueOf("main"))
	if !pkgScope.IsValid() || pkgScope.Kind() != reflect.Pointer || pkgScope.IsNil() || pkgScope.Type() != universe.Type() {
		return k
	}
	data, ok1 := field(frame.Elem(), "data")
	mu, ok2 := field(frame.Elem(), "mutex")
	uni, ok3 := field(universe.Elem(), "types")
	// pkgScope comes from a map: make an addressable view of the scope.
	ps := reflect.NewAt(pkgScope.Type().Elem(), unsafe.Pointer(pkgScope.Pointer())).Elem()
	pkg, ok4 := field(ps, "types")
	child, ok5 := field(ps, "child")
	sym, ok6 := field(ps, "sym")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		data.Type() != reflect.TypeOf([]reflect.Value(nil)) ||
		mu.Type() != reflect.TypeOf(sync.RWMutex{}) ||
		uni.Type() != reflect.TypeOf([]reflect.Type(nil)) || pkg.Type() != uni.Type() ||
		child.Kind() != reflect.Slice || sym.Kind() != reflect.Map || sym.Type().Key().Kind() != reflect.String ||
		sym.Type().Elem().Kind() != reflect.Pointer {
		return k
	}
	st := sym.Type().Elem().Elem()
	kf, okK := st.FieldByName("kind")
	xf, okX := st.FieldByName("index")
	if !okK || !okX || kf.Type.Kind() != reflect.Uint || xf.Type.Kind() != reflect.Int || len(kf.Index) != 1 || len(xf.Index) != 1 {
		return k
	}
	k.mu = (*sync.RWMutex)(unsafe.Pointer(mu.UnsafeAddr()))
	k.data = (*[]reflect.Value)(unsafe.Pointer(data.UnsafeAddr()))
	k.uni = (*[]reflect.Type)(unsafe.Pointer(uni.UnsafeAddr()))
	k.pkg = (*[]reflect.Type)(unsafe.Pointer(pkg.UnsafeAddr()))
	k.child, k.roots, k.sym = child, roots, sym
	k.kindF, k.indexF = kf.Index[0], xf.Index[0]
	// The symbol kinds of yaegi v0.16.1 (scope.go): undefSym, binSym,
	// bltnSym, constSym, funcSym, labelSym, pkgSym, typeSym, varTypeSym,
	// varSym.
	k.varKind = 9
	k.ok = k.check()
	return k
}

// check confirms the symbol kinds on the hooks' import (yaegi keys an
// import by its name and the importing file's).
func (k *frameKeeper) check() bool {
	kind, _, ok := k.lookup(hookImport + "/" + interp.DefaultSourceName)
	return ok && kind == 6 // pkgSym
}

// lookup returns the kind and frame index of the global symbol name.
func (k *frameKeeper) lookup(name string) (kind uint64, index int, ok bool) {
	v := k.sym.MapIndex(reflect.ValueOf(name))
	if !v.IsValid() || v.IsNil() {
		return 0, 0, false
	}
	s := v.Elem()
	return s.Field(k.kindF).Uint(), int(s.Field(k.indexF).Int()), true
}

// compiled drops what yaegi keeps of a compilation only for its
// debugger. Called after every compilation.
func (k *frameKeeper) compiled() {
	if !k.ok {
		return
	}
	k.roots.Set(reflect.Zero(k.roots.Type()))
	k.child.Set(reflect.Zero(k.child.Type()))
}

// prepare grows the global frame for what a compilation added, before
// the program runs. yaegi would do it in Execute by copying the whole
// frame into a new one; growing in place keeps the cost to the new slots.
func (k *frameKeeper) prepare() {
	if !k.ok {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	types := *k.uni
	if len(*k.pkg) > len(types) {
		types = *k.pkg // a failed compilation may not have propagated it
	}
	data := *k.data
	n := len(data)
	if len(types) <= n {
		return
	}
	if cap(data) < len(types) {
		grown := make([]reflect.Value, n, 2*len(types))
		copy(grown, data)
		data = grown
	}
	data = data[:len(types)]
	for i := n; i < len(types); i++ {
		data[i] = reflect.New(types[i]).Elem()
	}
	*k.data = data
}

// global returns the storage of the global variable name.
func (k *frameKeeper) global(name string) (reflect.Value, bool) {
	kind, index, ok := k.lookup(name)
	if !ok || kind != k.varKind {
		return reflect.Value{}, false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if index < 0 || index >= len(*k.data) {
		return reflect.Value{}, false
	}
	return (*k.data)[index], true
}

// size returns the number of slots of the global frame's layout.
func (k *frameKeeper) size() int {
	if !k.ok {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return max(len(*k.uni), len(*k.pkg))
}

// index returns the frame index of the global variable name.
func (k *frameKeeper) index(name string) (int, bool) {
	kind, index, ok := k.lookup(name)
	return index, ok && kind == k.varKind
}
