package display

import (
	"fmt"
	"html"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxRows and DefaultMaxColumns are the rows and columns a Table
// shows when its MaxRows or MaxColumns is 0 (pandas' display.max_rows in
// a notebook is 60, max_columns 20).
const (
	DefaultMaxRows    = 20
	DefaultMaxColumns = 20
)

// textMaxColWidth caps a cell's width in Table.String, like pandas'
// display.max_colwidth; the HTML form is not cut, browsers wrap it.
const textMaxColWidth = 50

// Table is a table of values displayed like a pandas DataFrame: an HTML
// table with class "dataframe" and a row-number index, or aligned text.
// Rows may be shorter or longer than Columns; missing cells and nil values
// show empty. Floats are printed with up to 6 significant digits, other
// values as RenderText would, strings as they are.
//
// The zero value is an empty table. A Table value (or pointer) that is a
// cell's result renders as a table.
type Table struct {
	Columns []string
	Rows    [][]any
	Caption string
	// MaxRows is the most rows shown: a longer table shows its first and
	// last rows around a "..." row and a "N rows × M columns" note. Zero
	// means DefaultMaxRows, negative means every row.
	MaxRows int
	// MaxColumns is the most columns shown, likewise: a wider table shows
	// its first and last columns around a "..." column. Zero means
	// DefaultMaxColumns, negative means every column.
	MaxColumns int
	// NoIndex hides the row-number column.
	NoIndex bool
}

// NewTable returns a table of rows under the given column names.
func NewTable(columns []string, rows [][]any) *Table {
	return &Table{Columns: columns, Rows: rows}
}

// ShowTable displays rows under the given column names as a table.
func ShowTable(columns []string, rows [][]any) {
	Publish(NewTable(columns, rows).Render())
}

// Render returns the table's bundle: text/html and text/plain.
func (t Table) Render() Bundle {
	b := newBundle()
	b.Data[MIMEHTML] = t.HTML()
	b.Data[MIMEText] = t.String()
	return b
}

// tableView is what a Table shows: row and column indexes, -1 for the
// "..." row or column that stands for those left out.
type tableView struct {
	ncols      int // columns in the table
	rows, cols []int
	elided     bool // rows or columns left out
}

func (t Table) view() tableView {
	v := tableView{ncols: len(t.Columns)}
	for _, r := range t.Rows {
		v.ncols = max(v.ncols, len(r))
	}
	var re, ce bool
	v.rows, re = shown(len(t.Rows), t.MaxRows, DefaultMaxRows)
	v.cols, ce = shown(v.ncols, t.MaxColumns, DefaultMaxColumns)
	v.elided = re || ce
	return v
}

// shown returns the indexes of n items to show at most limit of (0 means
// def, negative all): the first and last ones around -1 when some are
// left out, which it reports.
func shown(n, limit, def int) ([]int, bool) {
	if limit == 0 {
		limit = def
	}
	idx := make([]int, 0, min(n, max(limit, 0)+1))
	if limit < 0 || n <= limit {
		for i := range n {
			idx = append(idx, i)
		}
		return idx, false
	}
	head, tail := (limit+1)/2, limit/2
	for i := range head {
		idx = append(idx, i)
	}
	idx = append(idx, -1)
	for i := n - tail; i < n; i++ {
		idx = append(idx, i)
	}
	return idx, true
}

func (t Table) cell(row, col int) string {
	switch {
	case col < 0:
		return "..."
	case col >= len(t.Rows[row]):
		return ""
	}
	return formatCell(t.Rows[row][col])
}

func (t Table) column(col int) string {
	switch {
	case col < 0:
		return "..."
	case col < len(t.Columns):
		return t.Columns[col]
	}
	return ""
}

// tableStyle is the style block pandas emits with DataFrame._repr_html_.
const tableStyle = `<style scoped>
    .dataframe tbody tr th:only-of-type {
        vertical-align: middle;
    }

    .dataframe tbody tr th {
        vertical-align: top;
    }

    .dataframe thead th {
        text-align: right;
    }
</style>
`

// HTML returns the table as HTML in the form of pandas'
// DataFrame._repr_html_, which Jupyter frontends style.
func (t Table) HTML() string {
	v := t.view()
	var b strings.Builder
	b.WriteString("<div>\n")
	b.WriteString(tableStyle)
	b.WriteString(`<table border="1" class="dataframe">` + "\n")
	if t.Caption != "" {
		b.WriteString("  <caption>" + html.EscapeString(t.Caption) + "</caption>\n")
	}
	b.WriteString("  <thead>\n    <tr style=\"text-align: right;\">\n")
	if !t.NoIndex {
		b.WriteString("      <th></th>\n")
	}
	for _, c := range v.cols {
		b.WriteString("      <th>" + html.EscapeString(t.column(c)) + "</th>\n")
	}
	b.WriteString("    </tr>\n  </thead>\n  <tbody>\n")
	for _, r := range v.rows {
		b.WriteString("    <tr>\n")
		if !t.NoIndex {
			idx := "..."
			if r >= 0 {
				idx = strconv.Itoa(r)
			}
			b.WriteString("      <th>" + idx + "</th>\n")
		}
		for _, c := range v.cols {
			s := "..."
			if r >= 0 {
				s = html.EscapeString(t.cell(r, c))
			}
			b.WriteString("      <td>" + s + "</td>\n")
		}
		b.WriteString("    </tr>\n")
	}
	b.WriteString("  </tbody>\n</table>\n")
	if v.elided || len(t.Rows) == 0 {
		fmt.Fprintf(&b, "<p>%d rows × %d columns</p>\n", len(t.Rows), v.ncols)
	}
	b.WriteString("</div>")
	return b.String()
}

// String returns the table as right-aligned text columns, like pandas'
// DataFrame.to_string.
func (t Table) String() string {
	v := t.view()
	if v.ncols == 0 && len(t.Rows) == 0 {
		if t.Caption != "" {
			return t.Caption + "\n(empty table)"
		}
		return "(empty table)"
	}
	// grid[0] is the header; column 0 is the index unless hidden (or there
	// are no rows to number).
	withIndex := !t.NoIndex && len(v.rows) > 0
	var grid [][]string
	line := func(index string, cell func(c int) string) []string {
		row := make([]string, 0, len(v.cols)+1)
		if withIndex {
			row = append(row, index)
		}
		for _, c := range v.cols {
			row = append(row, textCell(cell(c)))
		}
		return row
	}
	grid = append(grid, line("", t.column))
	for _, r := range v.rows {
		if r < 0 {
			grid = append(grid, line("..", func(int) string { return "..." }))
			continue
		}
		grid = append(grid, line(strconv.Itoa(r), func(c int) string { return t.cell(r, c) }))
	}
	widths := make([]int, len(grid[0]))
	for _, row := range grid {
		for c, s := range row {
			widths[c] = max(widths[c], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	if t.Caption != "" {
		b.WriteString(t.Caption + "\n")
	}
	for i, row := range grid {
		if i > 0 {
			b.WriteByte('\n')
		}
		var ln strings.Builder
		for c, s := range row {
			if c > 0 {
				ln.WriteString("  ")
			}
			pad := widths[c] - utf8.RuneCountInString(s)
			if withIndex && c == 0 {
				ln.WriteString(s + strings.Repeat(" ", pad)) // index left-aligned, as pandas does
			} else {
				ln.WriteString(strings.Repeat(" ", pad) + s)
			}
		}
		b.WriteString(strings.TrimRight(ln.String(), " "))
	}
	if v.elided || len(t.Rows) == 0 {
		fmt.Fprintf(&b, "\n\n[%d rows x %d columns]", len(t.Rows), v.ncols)
	}
	return b.String()
}

// textCell makes a cell fit on one line of limited width.
func textCell(s string) string {
	if strings.ContainsAny(s, "\n\r\t") {
		s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
	}
	if utf8.RuneCountInString(s) > textMaxColWidth {
		r := []rune(s)
		s = string(r[:textMaxColWidth-3]) + "..."
	}
	return s
}

// formatCell formats one table value: strings as they are, floats with up
// to 6 significant digits, values with methods through them, the rest as
// RenderText does.
func formatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return formatFloat(x, 64)
	case float32:
		return formatFloat(float64(x), 32)
	case fmt.Formatter, error, fmt.Stringer:
		return RenderText(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Float32:
		return formatFloat(rv.Float(), 32)
	case reflect.Float64:
		return formatFloat(rv.Float(), 64)
	case reflect.Complex64, reflect.Complex128:
		c := rv.Complex()
		return "(" + formatFloat(real(c), 64) + signed(formatFloat(imag(c), 64)) + "i)"
	case reflect.Pointer:
		if rv.IsNil() {
			return ""
		}
	}
	return RenderText(v)
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return s
	}
	return "+" + s
}

// formatFloat prints f with up to 6 significant digits, keeping a ".0" on
// whole numbers so floats still read as floats (like pandas).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(f, 'g', 6, bits)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
