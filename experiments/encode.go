package experiments

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"slices"
)

// Estimators' parameters and fitted state are saved (format versions 2 and 3)
// in a compact binary encoding: gob spends most of its time on numeric
// slices through reflection element by element (about 40-70 ms for a
// 100-tree forest), while here a []float64 or []int32 is a length and a
// tight loop over its elements, in the same compact form gob uses.
//
// The encoding is self-describing like gob, so state structs may gain or
// lose fields between versions: a struct is its number of exported
// fields, then each field's name and tagged value; decoding matches
// fields by name, skips fields the struct no longer has and leaves new
// ones at their zero value. A value is a tag byte, then:
//
//	tagBool    one byte
//	tagInt     zig-zag varint (every signed integer kind)
//	tagUint    uvarint (every unsigned integer kind)
//	tagFloat   8 bytes, IEEE 754 bits, little-endian (float32 and float64)
//	tagString  uvarint length, bytes
//	tagFloats  uvarint n+1 (0 is a nil slice), n floats ([]float64): each
//	           a byte k (0 to 8), then the k low-order bytes of its
//	           IEEE 754 bits byte-reversed
//	tagInt32s  uvarint n+1, n zig-zag varints ([]int32)
//	tagSlice   uvarint n+1, n tagged values (any other slice)
//	tagStruct  uvarint field count, (name, tagged value) per field
//
// Maps, pointers, interfaces and other kinds are not encoded: an
// estimator holding one is saved with gob instead (savedStep.Enc "").
const (
	tagBool byte = iota + 1
	tagInt
	tagUint
	tagFloat
	tagString
	tagFloats
	tagInt32s
	tagSlice
	tagStruct
)

// encBinary names the encoding in savedStep.Enc.
const encBinary = "bin1"

var errNotBinary = errors.New("value has a kind the binary encoding does not cover")

// appendBinary appends the exported fields of the struct v points to.
func appendBinary(b []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return b, fmt.Errorf("encode %T: %w", v, errNotBinary)
	}
	return appendStruct(b, rv.Elem())
}

// saved reports whether a struct field is encoded: the exported ones but
// Workers, which says how many cores fit or predict, never what they
// compute. A model is then the same bytes (and the same version when
// served) whatever machine fitted it, and uses every core where it is
// loaded.
func saved(f reflect.StructField) bool { return f.IsExported() && f.Name != "Workers" }

func appendStruct(b []byte, v reflect.Value) ([]byte, error) {
	t := v.Type()
	n := 0
	for i := 0; i < t.NumField(); i++ {
		if saved(t.Field(i)) {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !saved(f) {
			continue
		}
		b = appendString(b, f.Name)
		var err error
		if b, err = appendValue(b, v.Field(i)); err != nil {
			return b, fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		x := byte(0)
		if v.Bool() {
			x = 1
		}
		return append(b, tagBool, x), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(append(b, tagInt), v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(append(b, tagUint), v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v.Float())), nil
	case reflect.String:
		return appendString(append(b, tagString), v.String()), nil
	case reflect.Struct:
		return appendStruct(append(b, tagStruct), v)
	case reflect.Slice:
		return appendSlice(b, v)
	}
	return b, fmt.Errorf("%s: %w", v.Type(), errNotBinary)
}

func sliceLen(v reflect.Value) uint64 {
	if v.IsNil() {
		return 0
	}
	return uint64(v.Len()) + 1
}

func appendSlice(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Type().Elem().Kind() {
	case reflect.Float64:
		b = binary.AppendUvarint(append(b, tagFloats), sliceLen(v))
		if xs, ok := v.Interface().([]float64); ok { // the common case, without reflection per element
			return appendFloats(b, xs), nil
		}
		xs := make([]float64, v.Len())
		for i := range xs {
			xs[i] = v.Index(i).Float()
		}
		return appendFloats(b, xs), nil
	case reflect.Int32:
		b = binary.AppendUvarint(append(b, tagInt32s), sliceLen(v))
		if xs, ok := v.Interface().([]int32); ok {
			b = slices.Grow(b, 5*len(xs))
			for _, x := range xs {
				b = binary.AppendVarint(b, int64(x))
			}
			return b, nil
		}
		for i := 0; i < v.Len(); i++ {
			b = binary.AppendVarint(b, v.Index(i).Int())
		}
		return b, nil
	}
	b = binary.AppendUvarint(append(b, tagSlice), sliceLen(v))
	for i := 0; i < v.Len(); i++ {
		var err error
		if b, err = appendValue(b, v.Index(i)); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendFloats writes each value's bits byte-reversed, as gob does, so
// that the round numbers trees are full of (0, 1, 0.5, thresholds
// halfway between small values) take one to three bytes: a byte n
// (0 to 8), then the n low-order bytes of the reversed bits. It writes
// into room reserved up front and has no branch per value.
func appendFloats(b []byte, xs []float64) []byte {
	off := len(b)
	b = slices.Grow(b, 9*len(xs)+8)
	buf := b[:cap(b)]
	for _, x := range xs {
		r := bits.ReverseBytes64(math.Float64bits(x))
		n := (bits.Len64(r) + 7) / 8
		buf[off] = byte(n)
		// All 8 bytes are written; the n that count are kept, the rest
		// is overwritten by what follows.
		binary.LittleEndian.PutUint64(buf[off+1:], r)
		off += 1 + n
	}
	return b[:off]
}

// floats decodes len(xs) values written by appendFloats into xs.
func (d *decoder) floats(xs []float64) error {
	b := d.b
	i := 0
	for k := range xs {
		if i >= len(b) {
			return errShort
		}
		n := int(b[i])
		if n > 8 || i+1+n > len(b) {
			return errShort
		}
		var r uint64
		if i+9 <= len(b) {
			r = binary.LittleEndian.Uint64(b[i+1:]) & (^uint64(0) >> (64 - 8*n))
		} else {
			for j := i + n; j > i; j-- {
				r = r<<8 | uint64(b[j])
			}
		}
		xs[k] = math.Float64frombits(bits.ReverseBytes64(r))
		i += 1 + n
	}
	d.b = b[i:]
	return nil
}

func (d *decoder) float() (float64, error) {
	var x [1]float64
	err := d.floats(x[:])
	return x[0], err
}

// decoder reads the binary encoding; every length is checked against
// the bytes left, so a damaged artifact gives an error, not a huge
// allocation or a panic.
type decoder struct {
	b []byte
}

var errShort = errors.New("truncated data")

func (d *decoder) byte1() (byte, error) {
	if len(d.b) == 0 {
		return 0, errShort
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

func (d *decoder) varint() (int64, error) {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

func (d *decoder) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)) {
		return nil, errShort
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out, nil
}

func (d *decoder) string() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	s, err := d.bytes(n)
	return string(s), err
}

// count reads a slice length (n+1, 0 for nil) and checks that n
// elements of at least size bytes each can follow.
func (d *decoder) count(size uint64) (n int, isNil bool, err error) {
	x, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if x == 0 {
		return 0, true, nil
	}
	x--
	if x > uint64(len(d.b))/size {
		return 0, false, errShort
	}
	return int(x), false, nil
}

// decodeBinary decodes data into the struct v points to; all of data
// must be used.
func decodeBinary(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode into %T: not a pointer to a struct", v)
	}
	d := &decoder{b: data}
	if err := d.structInto(rv.Elem()); err != nil {
		return err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%d bytes left after the value", len(d.b))
	}
	return nil
}

func (d *decoder) structInto(v reflect.Value) error {
	n, err := d.uvarint()
	if err != nil {
		return err
	}
	for ; n > 0; n-- {
		name, err := d.string()
		if err != nil {
			return err
		}
		f := v.FieldByName(name)
		if !f.IsValid() || !f.CanSet() {
			// A field this version no longer has.
			if err := d.skip(); err != nil {
				return fmt.Errorf("field %s: %w", name, err)
			}
			continue
		}
		if err := d.value(f); err != nil {
			return fmt.Errorf("field %s: %w", name, err)
		}
	}
	return nil
}

func mismatch(tag byte, v reflect.Value) error {
	return fmt.Errorf("encoded tag %d does not fit %s", tag, v.Type())
}

func (d *decoder) value(v reflect.Value) error {
	tag, err := d.byte1()
	if err != nil {
		return err
	}
	k := v.Kind()
	switch tag {
	case tagBool:
		if k != reflect.Bool {
			return mismatch(tag, v)
		}
		c, err := d.byte1()
		v.SetBool(c != 0)
		return err
	case tagInt:
		x, err := d.varint()
		if err != nil {
			return err
		}
		if k < reflect.Int || k > reflect.Int64 {
			return mismatch(tag, v)
		}
		if v.OverflowInt(x) {
			return fmt.Errorf("%d overflows %s", x, v.Type())
		}
		v.SetInt(x)
		return nil
	case tagUint:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		if k < reflect.Uint || k > reflect.Uintptr {
			return mismatch(tag, v)
		}
		if v.OverflowUint(x) {
			return fmt.Errorf("%d overflows %s", x, v.Type())
		}
		v.SetUint(x)
		return nil
	case tagFloat:
		w, err := d.bytes(8)
		if err != nil {
			return err
		}
		if k != reflect.Float64 && k != reflect.Float32 {
			return mismatch(tag, v)
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(w)))
		return nil
	case tagString:
		s, err := d.string()
		if err != nil {
			return err
		}
		if k != reflect.String {
			return mismatch(tag, v)
		}
		v.SetString(s)
		return nil
	case tagStruct:
		if k != reflect.Struct {
			return mismatch(tag, v)
		}
		return d.structInto(v)
	case tagFloats:
		n, isNil, err := d.count(1)
		if err != nil {
			return err
		}
		if k != reflect.Slice || v.Type().Elem().Kind() != reflect.Float64 {
			return mismatch(tag, v)
		}
		if isNil {
			v.SetZero()
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		if xs, ok := s.Interface().([]float64); ok {
			if err := d.floats(xs); err != nil {
				return err
			}
		} else {
			for i := 0; i < n; i++ {
				x, err := d.float()
				if err != nil {
					return err
				}
				s.Index(i).SetFloat(x)
			}
		}
		v.Set(s)
		return nil
	case tagInt32s:
		n, isNil, err := d.count(1)
		if err != nil {
			return err
		}
		if k != reflect.Slice || v.Type().Elem().Kind() != reflect.Int32 {
			return mismatch(tag, v)
		}
		if isNil {
			v.SetZero()
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		xs, fast := s.Interface().([]int32)
		for i := 0; i < n; i++ {
			x, err := d.varint()
			if err != nil {
				return err
			}
			if x < math.MinInt32 || x > math.MaxInt32 {
				return fmt.Errorf("%d overflows int32", x)
			}
			if fast {
				xs[i] = int32(x)
			} else {
				s.Index(i).SetInt(x)
			}
		}
		v.Set(s)
		return nil
	case tagSlice:
		n, isNil, err := d.count(1)
		if err != nil {
			return err
		}
		if k != reflect.Slice {
			return mismatch(tag, v)
		}
		if isNil {
			v.SetZero()
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.value(s.Index(i)); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		v.Set(s)
		return nil
	}
	return fmt.Errorf("unknown tag %d", tag)
}

// skip reads past one tagged value.
func (d *decoder) skip() error {
	tag, err := d.byte1()
	if err != nil {
		return err
	}
	switch tag {
	case tagBool:
		_, err = d.byte1()
	case tagInt:
		_, err = d.varint()
	case tagUint:
		_, err = d.uvarint()
	case tagFloat:
		_, err = d.bytes(8)
	case tagString:
		_, err = d.string()
	case tagFloats:
		var n int
		if n, _, err = d.count(1); err == nil {
			for ; n > 0 && err == nil; n-- {
				_, err = d.float()
			}
		}
	case tagInt32s:
		var n int
		if n, _, err = d.count(1); err == nil {
			for ; n > 0 && err == nil; n-- {
				_, err = d.varint()
			}
		}
	case tagSlice:
		var n int
		if n, _, err = d.count(1); err == nil {
			for ; n > 0 && err == nil; n-- {
				err = d.skip()
			}
		}
	case tagStruct:
		var n uint64
		if n, err = d.uvarint(); err == nil {
			for ; n > 0 && err == nil; n-- {
				if _, err = d.string(); err == nil {
					err = d.skip()
				}
			}
		}
	default:
		err = fmt.Errorf("unknown tag %d", tag)
	}
	return err
}
