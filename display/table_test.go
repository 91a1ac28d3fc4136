package display

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

type celsius float64

func numbered(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, fmt.Sprintf("r%d", i)}
	}
	return rows
}

func TestTableString(t *testing.T) {
	tests := []struct {
		name  string
		table Table
		want  string
	}{
		{
			name:  "aligned",
			table: Table{Columns: []string{"name", "score"}, Rows: [][]any{{"alice", 0.91234567}, {"bob", 12.0}, {"charlotte", -3}}},
			want: "" +
				"        name     score\n" +
				"0      alice  0.912346\n" +
				"1        bob      12.0\n" +
				"2  charlotte        -3",
		},
		{
			name:  "caption and no index",
			table: Table{Columns: []string{"a", "b"}, Rows: [][]any{{1, 2}}, Caption: "Totals", NoIndex: true},
			want:  "Totals\na  b\n1  2",
		},
		{
			name:  "ragged rows",
			table: Table{Columns: []string{"a", "b"}, Rows: [][]any{{1}, {1, 2, 3}}},
			want:  "   a  b\n0  1\n1  1  2  3",
		},
		{
			name:  "elided",
			table: Table{Columns: []string{"n", "s"}, Rows: numbered(100), MaxRows: 4},
			want:  "      n    s\n0     0   r0\n1     1   r1\n..  ...  ...\n98   98  r98\n99   99  r99\n\n[100 rows x 2 columns]",
		},
		{
			name:  "odd MaxRows shows the extra row at the head",
			table: Table{Columns: []string{"n"}, Rows: [][]any{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}}, MaxRows: 3, NoIndex: true},
			want:  "  n\n  0\n  1\n...\n  9\n\n[10 rows x 1 columns]",
		},
		{
			name:  "newlines and long cells",
			table: Table{Columns: []string{"t"}, Rows: [][]any{{"a\nb"}, {strings.Repeat("x", 60)}}},
			want: strings.Repeat(" ", 52) + "t\n" +
				"0  " + strings.Repeat(" ", 46) + `a\nb` + "\n" +
				"1  " + strings.Repeat("x", 47) + "...",
		},
		{
			name:  "empty",
			table: Table{},
			want:  "(empty table)",
		},
		{
			name:  "columns only",
			table: Table{Columns: []string{"a", "bb"}},
			want:  "a  bb\n\n[0 rows x 2 columns]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.table.String(); got != tt.want {
				t.Errorf("String():\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestTableElision(t *testing.T) {
	tests := []struct {
		name     string
		rows     int
		maxRows  int
		shown    []int // row numbers expected in the HTML index
		hidden   []int
		elided   bool
		dataRows int // <tr> in <tbody>, elision row included
	}{
		{"short", 5, 0, []int{0, 4}, nil, false, 5},
		{"exactly default", DefaultMaxRows, 0, []int{0, 19}, nil, false, 20},
		{"over default", 21, 0, []int{0, 9, 11, 20}, []int{10}, true, 21},
		{"custom", 1000, 6, []int{0, 2, 997, 999}, []int{3, 996}, true, 7},
		{"unlimited", 100, -1, []int{0, 50, 99}, nil, false, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := Table{Columns: []string{"n", "s"}, Rows: numbered(tt.rows), MaxRows: tt.maxRows}
			h := tab.HTML()
			body := h[strings.Index(h, "<tbody>"):]
			if got := strings.Count(body, "<tr>"); got != tt.dataRows {
				t.Errorf("%d body rows, want %d", got, tt.dataRows)
			}
			for _, r := range tt.shown {
				if !strings.Contains(body, fmt.Sprintf("<th>%d</th>", r)) {
					t.Errorf("row %d missing", r)
				}
			}
			for _, r := range tt.hidden {
				if strings.Contains(body, fmt.Sprintf("<th>%d</th>", r)) {
					t.Errorf("row %d shown, want elided", r)
				}
			}
			note := fmt.Sprintf("<p>%d rows × 2 columns</p>", tt.rows)
			if strings.Contains(h, note) != tt.elided || strings.Contains(body, "<td>...</td>") != tt.elided {
				t.Errorf("elision marks present = %v, want %v", !tt.elided, tt.elided)
			}
			if strings.Contains(tab.String(), "rows x 2 columns]") != tt.elided {
				t.Errorf("text elision note present = %v, want %v", !tt.elided, tt.elided)
			}
		})
	}
}

func TestTableHTML(t *testing.T) {
	tab := Table{
		Columns: []string{"<col>", "a&b"},
		Rows:    [][]any{{"<script>alert(1)</script>", `"q" 'q'`}, {nil, 1.0}},
		Caption: "<cap>",
	}
	h := tab.HTML()
	for _, bad := range []string{"<col>", "<script>", "<cap>", "a&b"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		`<table border="1" class="dataframe">`,
		"<style scoped>",
		"<caption>&lt;cap&gt;</caption>",
		"<th>&lt;col&gt;</th>",
		"<th>a&amp;b</th>",
		"<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>",
		"<td>&#34;q&#34; &#39;q&#39;</td>",
		"<th>1</th>\n      <td></td>\n      <td>1.0</td>",
		`<tr style="text-align: right;">` + "\n      <th></th>",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Count(h, "<th>") != 3+2 || strings.Count(h, "<td>") != 4 {
		t.Errorf("unexpected cell counts in:\n%s", h)
	}

	noIndex := Table{Columns: []string{"a"}, Rows: [][]any{{1}}, NoIndex: true}.HTML()
	if strings.Contains(noIndex, "<th></th>") || strings.Contains(noIndex, "<th>0</th>") {
		t.Errorf("NoIndex table has an index:\n%s", noIndex)
	}

	b := tab.Render()
	if b.Data[MIMEHTML] != h || b.Data[MIMEText] != tab.String() {
		t.Error("Render does not carry HTML and String")
	}
}

func TestFormatCell(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"text", "text"},
		{3, "3"},
		{int64(-9), "-9"},
		{uint(7), "7"},
		{true, "true"},
		{3.14159265, "3.14159"},
		{2.0, "2.0"},
		{100000.0, "100000.0"},
		{1234567.0, "1.23457e+06"},
		{0.0001234567, "0.000123457"},
		{1e-7, "1e-07"},
		{float32(0.1), "0.1"},
		{celsius(21.456789), "21.4568"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Inf"},
		{complex(1.5, -2), "(1.5-2.0i)"},
		{time.Second, "1s"},
		{stringer{4}, "S4"},
		{[]string{"a"}, `["a"]`},
		{(*node)(nil), ""},
	}
	for _, tt := range tests {
		if got := formatCell(tt.v); got != tt.want {
			t.Errorf("formatCell(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// A wide table shows its first and last columns around a "..." column,
// as pandas does past display.max_columns; a table without rows says so.
func TestTableWide(t *testing.T) {
	cols := make([]string, 60)
	row := make([]any, 60)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
		row[i] = i
	}
	tb := Table{Columns: cols, Rows: [][]any{row, row}}
	text := tb.String()
	lines := strings.Split(text, "\n")
	if !strings.HasPrefix(strings.TrimSpace(lines[0]), "c0  c1") || !strings.Contains(lines[0], "c9  ...  c50") || !strings.HasSuffix(lines[0], "c59") {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) != 22 || f[10] != "9" || f[11] != "..." || f[12] != "50" || !strings.HasSuffix(text, "[2 rows x 60 columns]") {
		t.Errorf("text:\n%s", text)
	}
	h := tb.HTML()
	if strings.Count(h, "<th>") != 1+20+1+2 || !strings.Contains(h, "<th>...</th>") || !strings.Contains(h, "2 rows × 60 columns") {
		t.Errorf("html: %d <th>:\n%s", strings.Count(h, "<th>"), h)
	}
	tb.MaxColumns = -1
	if s := tb.String(); strings.Contains(s, "...") || strings.Contains(s, "columns]") {
		t.Errorf("MaxColumns -1:\n%s", s)
	}
	empty := NewTable([]string{"a", "b"}, nil)
	if s := empty.String(); s != "a  b\n\n[0 rows x 2 columns]" {
		t.Errorf("empty table %q", s)
	}
}
