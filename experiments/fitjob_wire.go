package experiments

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// The fit-job encoding: the exported fields of a struct, in declaration
// order, each as
//
//	bool            one byte
//	ints            zig-zag varint; uints uvarint
//	floats          8 bytes, IEEE 754 bits, little-endian (NaN survives)
//	string          uvarint length, bytes
//	slice, map      uvarint n+1 (0 is nil), then the elements (a map's
//	                sorted by key)
//	array           the elements
//	pointer         0 (nil) or 1 and the value
//	struct          its exported fields
//	interface       0: only nil ones are encoded
//
// Func and chan fields are left out. Both ends run the same program, so
// fields match by position. Unlike encoding/gob it keeps no process-wide
// state: gob numbers types in the order a process first encodes them, so
// encoding fit jobs with gob would change the bytes of the models the
// process saves later (model.gob and its SHA-256).

var errWire = errors.New("malformed fit job")

func wireAppend(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float())), nil
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...), nil
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		if v.Type().Elem().Kind() == reflect.Float64 {
			for _, f := range v.Interface().([]float64) {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
			}
			return b, nil
		}
		return wireAppendElems(b, v)
	case reflect.Array:
		return wireAppendElems(b, v)
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return wireAppend(append(b, 1), v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			return b, fmt.Errorf("a %s holding %s cannot be encoded", v.Type(), v.Elem().Type())
		}
		return append(b, 0), nil
	case reflect.Map:
		if v.IsNil() {
			return append(b, 0), nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b = binary.AppendUvarint(b, uint64(len(keys))+1)
		for _, k := range keys {
			var err error
			if b, err = wireAppend(b, k); err != nil {
				return b, err
			}
			if b, err = wireAppend(b, v.MapIndex(k)); err != nil {
				return b, err
			}
		}
		return b, nil
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !wireField(f) {
				continue
			}
			var err error
			if b, err = wireAppend(b, v.Field(i)); err != nil {
				return b, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
			}
		}
		return b, nil
	}
	return b, fmt.Errorf("a %s cannot be encoded", v.Type())
}

func wireAppendElems(b []byte, v reflect.Value) ([]byte, error) {
	for i := 0; i < v.Len(); i++ {
		var err error
		if b, err = wireAppend(b, v.Index(i)); err != nil {
			return b, err
		}
	}
	return b, nil
}

// wireField reports whether a struct field is encoded.
func wireField(f reflect.StructField) bool {
	k := f.Type.Kind()
	return f.IsExported() && k != reflect.Func && k != reflect.Chan
}

// wireReader decodes what wireAppend wrote into settable values.
type wireReader struct{ b []byte }

func (r *wireReader) uvarint() (uint64, error) {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, errWire
	}
	r.b = r.b[n:]
	return x, nil
}

// count reads a slice or map length: -1 for nil.
func (r *wireReader) count() (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b))+1 { // every element takes a byte at least
		return 0, errWire
	}
	return int(n) - 1, nil
}

func (r *wireReader) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		if len(r.b) < 1 {
			return errWire
		}
		v.SetBool(r.b[0] != 0)
		r.b = r.b[1:]
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(r.b)
		if n <= 0 {
			return errWire
		}
		r.b = r.b[n:]
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		if len(r.b) < 8 {
			return errWire
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(r.b)))
		r.b = r.b[8:]
	case reflect.String:
		n, err := r.uvarint()
		if err != nil || n > uint64(len(r.b)) {
			return errWire
		}
		v.SetString(string(r.b[:n]))
		r.b = r.b[n:]
	case reflect.Slice:
		n, err := r.count()
		if err != nil || n < 0 {
			return err
		}
		if v.Type().Elem().Kind() == reflect.Float64 {
			if 8*n > len(r.b) {
				return errWire
			}
			fs := make([]float64, n)
			for i := range fs {
				fs[i] = math.Float64frombits(binary.LittleEndian.Uint64(r.b[8*i:]))
			}
			r.b = r.b[8*n:]
			v.Set(reflect.ValueOf(fs).Convert(v.Type()))
			return nil
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		return r.elems(v)
	case reflect.Array:
		return r.elems(v)
	case reflect.Pointer:
		if len(r.b) < 1 {
			return errWire
		}
		isNil := r.b[0] == 0
		r.b = r.b[1:]
		if isNil {
			return nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		return r.value(v.Elem())
	case reflect.Interface:
		if len(r.b) < 1 || r.b[0] != 0 {
			return errWire
		}
		r.b = r.b[1:]
	case reflect.Map:
		n, err := r.count()
		if err != nil || n < 0 {
			return err
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			if err := r.value(k); err != nil {
				return err
			}
			if err := r.value(e); err != nil {
				return err
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !wireField(t.Field(i)) {
				continue
			}
			if err := r.value(v.Field(i)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("a %s cannot be decoded", v.Type())
	}
	return nil
}

func (r *wireReader) elems(v reflect.Value) error {
	for i := 0; i < v.Len(); i++ {
		if err := r.value(v.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

// wireMarshal encodes the struct v points to.
func wireMarshal(v any) ([]byte, error) {
	return wireAppend(nil, reflect.ValueOf(v).Elem())
}

// wireUnmarshal decodes b into the struct v points to; b must hold
// exactly one value.
func wireUnmarshal(b []byte, v any) error {
	r := &wireReader{b: b}
	if err := r.value(reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	if len(r.b) != 0 {
		return errWire
	}
	return nil
}
