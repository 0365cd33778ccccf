package op_test

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// TestOpsDocumented keeps docs/ops.md in step with op/types.go: every
// defined type has a row "| code | NAME | ...", no row names a type that
// does not exist, and the encoding example is what Encode produces.
func TestOpsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/ops.md")
	if err != nil {
		t.Fatalf("read docs/ops.md: %v", err)
	}
	// The table of types runs from "## Types" to the next heading.
	_, table, ok := strings.Cut(string(doc), "\n## Types\n")
	if !ok {
		t.Fatal(`docs/ops.md has no "## Types" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	rows := map[op.Type]string{}
	row := regexp.MustCompile(`(?m)^\| (\d+) \| ([A-Z]+) \|`)
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		code, err := strconv.ParseUint(m[1], 10, 16)
		if err != nil {
			t.Fatalf("row %q: %v", m[0], err)
		}
		rows[op.Type(code)] = m[2]
	}
	types := op.Types()
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, typ := range types {
		name, ok := rows[typ]
		switch {
		case !ok:
			t.Errorf("docs/ops.md has no row for %d %s", typ, typ)
		case name != typ.String():
			t.Errorf("docs/ops.md names %d %s, op/types.go %s", typ, name, typ)
		}
		delete(rows, typ)
	}
	for code, name := range rows {
		t.Errorf("docs/ops.md documents %d %s, which op/types.go does not define", code, name)
	}

	example := (&op.Op{Type: op.Set, Now: 1700000000000, Args: [][]byte{[]byte("foo"), []byte("bar")}}).Encode(nil)
	if hex := fmt.Sprintf("% x", example); !strings.Contains(string(doc), "`"+hex+"`") {
		t.Errorf("docs/ops.md's encoding example is not Encode's output %s", hex)
	}
	if !strings.Contains(string(doc), fmt.Sprintf("## Binary encoding (version %d)", op.Version)) {
		t.Errorf("docs/ops.md does not describe encoding version %d", op.Version)
	}
}
