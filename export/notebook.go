package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Notebook is a Jupyter notebook in nbformat 4. Fields this package does
// not use are kept as they were read, so a notebook written back differs
// only in what was changed.
type Notebook struct {
	Cells         []*Cell                    // in notebook order
	Metadata      map[string]json.RawMessage // notebook metadata, raw by key
	Nbformat      int                        // major version: 4, the only one read
	NbformatMinor int                        // minor format version, kept as read

	extra map[string]json.RawMessage // unknown top-level keys
	// origin is, for a notebook InjectParams made, the index of each
	// cell in the notebook it was given (-1: the injected cell), so that
	// a run names cells as the user's notebook numbers them.
	origin []int
}

// cellNumber returns the index of cell i in the notebook the user wrote,
// and whether cell i is the one InjectParams inserted (then the index is
// that of the parameters cell it follows).
func (nb *Notebook) cellNumber(i int) (n int, injected bool) {
	if nb.origin == nil || i >= len(nb.origin) {
		return i, false
	}
	if nb.origin[i] < 0 {
		n, _ = nb.cellNumber(i - 1)
		return n, true
	}
	return nb.origin[i], false
}

// Cell is one notebook cell.
type Cell struct {
	ID       string                     // nbformat cell id; "" if none (then not written)
	Type     string                     // "code", "markdown" or "raw"
	Source   string                     // the cell's text, its lines joined
	Metadata map[string]json.RawMessage // cell metadata, raw by key (tags under "tags")
	// ExecutionCount is nil for a code cell that has not run.
	ExecutionCount *int
	// Outputs are the code cell's outputs, as nbformat JSON objects.
	Outputs []json.RawMessage

	extra map[string]json.RawMessage // attachments and other keys
}

// ReadNotebook reads an nbformat 4 notebook file.
func ReadNotebook(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("export: read notebook: %w", err)
	}
	nb, err := ParseNotebook(data)
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", path, err)
	}
	return nb, nil
}

// ParseNotebook decodes an nbformat 4 notebook.
func ParseNotebook(data []byte) (*Notebook, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a notebook (JSON): %w", err)
	}
	nb := &Notebook{extra: map[string]json.RawMessage{}}
	for k, v := range top {
		var err error
		switch k {
		case "nbformat":
			err = json.Unmarshal(v, &nb.Nbformat)
		case "nbformat_minor":
			err = json.Unmarshal(v, &nb.NbformatMinor)
		case "metadata":
			err = json.Unmarshal(v, &nb.Metadata)
		case "cells":
			var raw []map[string]json.RawMessage
			if err = json.Unmarshal(v, &raw); err == nil {
				for i, rc := range raw {
					c, cerr := decodeCell(rc)
					if cerr != nil {
						return nil, fmt.Errorf("cell %d: %w", i, cerr)
					}
					nb.Cells = append(nb.Cells, c)
				}
			}
		default:
			nb.extra[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("notebook field %q: %w", k, err)
		}
	}
	if nb.Nbformat != 4 {
		return nil, fmt.Errorf("nbformat %d is not supported (only 4; convert with jupyter nbconvert --to notebook)", nb.Nbformat)
	}
	if top["cells"] == nil {
		return nil, fmt.Errorf("not a notebook: no cells")
	}
	return nb, nil
}

func decodeCell(rc map[string]json.RawMessage) (*Cell, error) {
	c := &Cell{extra: map[string]json.RawMessage{}}
	for k, v := range rc {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &c.ID)
		case "cell_type":
			err = json.Unmarshal(v, &c.Type)
		case "source":
			c.Source, err = multiline(v)
		case "metadata":
			err = json.Unmarshal(v, &c.Metadata)
		case "execution_count":
			err = json.Unmarshal(v, &c.ExecutionCount)
		case "outputs":
			err = json.Unmarshal(v, &c.Outputs)
		default:
			c.extra[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
	}
	switch c.Type {
	case "code", "markdown", "raw":
	case "":
		return nil, fmt.Errorf("no cell_type")
	default:
		return nil, fmt.Errorf("unknown cell_type %q", c.Type)
	}
	return c, nil
}

// multiline decodes nbformat's multiline string: a string or a list of
// strings to concatenate.
func multiline(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(v, &lines); err != nil {
		return "", fmt.Errorf("want a string or a list of strings")
	}
	return strings.Join(lines, ""), nil
}

// splitLines splits text the way nbformat stores it: lines with their
// line breaks.
func splitLines(s string) []string {
	out := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// Tags returns the cell's Jupyter tags (metadata.tags).
func (c *Cell) Tags() []string {
	var tags []string
	if raw, ok := c.Metadata["tags"]; ok {
		_ = json.Unmarshal(raw, &tags)
	}
	return tags
}

// HasTag reports whether the cell has the tag.
func (c *Cell) HasTag(tag string) bool { return slices.Contains(c.Tags(), tag) }

// SetTags replaces the cell's tags.
func (c *Cell) SetTags(tags []string) {
	if c.Metadata == nil {
		c.Metadata = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(tags)
	c.Metadata["tags"] = b
}

// MarshalJSON encodes the cell as nbformat 4 does.
func (c *Cell) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range c.extra {
		m[k] = v
	}
	if c.ID != "" {
		m["id"] = c.ID
	}
	m["cell_type"] = c.Type
	m["source"] = splitLines(c.Source)
	md := c.Metadata
	if md == nil {
		md = map[string]json.RawMessage{}
	}
	m["metadata"] = md
	if c.Type == "code" {
		m["execution_count"] = c.ExecutionCount
		outs := c.Outputs
		if outs == nil {
			outs = []json.RawMessage{}
		}
		m["outputs"] = outs
	}
	return json.Marshal(m)
}

// Marshal encodes the notebook as Jupyter writes it: sorted keys, one
// space of indentation, a final newline.
func (nb *Notebook) Marshal() ([]byte, error) {
	m := map[string]any{}
	for k, v := range nb.extra {
		m[k] = v
	}
	md := nb.Metadata
	if md == nil {
		md = map[string]json.RawMessage{}
	}
	m["metadata"] = md
	m["nbformat"] = nb.Nbformat
	m["nbformat_minor"] = nb.NbformatMinor
	cells := nb.Cells
	if cells == nil {
		cells = []*Cell{}
	}
	m["cells"] = cells
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("export: encode notebook: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteFile writes the notebook to path.
func (nb *Notebook) WriteFile(path string) error {
	data, err := nb.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("export: write notebook: %w", err)
	}
	return nil
}
