package cluster

import (
	"strings"
	"testing"
)

// The checker of the bitmap, HyperLogLog, geo and RESTORE probe finds each kind of
// violation, and nothing in views that keep the promises.
func TestCheckTypesCatches(t *testing.T) {
	sent := map[typedWrite]pubStatus{
		{"SETBIT", 0}: pubAcked, {"SETBIT", 3}: pubFailed, {"SETBIT", 9}: pubUnknown,
		{"GEOADD", 1}: pubAcked, {"GEOADD", 4}: pubFailed,
		{"PFADD", 2}: pubAcked, {"PFADD", 5}: pubAcked,
		{"RESTORE", 6}: pubAcked, {"RESTORE", 7}: pubFailed, {"RESTORE", 8}: pubUnknown,
	}
	good := typesView{node: "n1", bits: "\x80\x40", hll: "h", geo: []any{"m1", "1"}, count: 2, restored: []any{"r6", nil, "r8"}}
	cases := []struct {
		name string
		view func(v typesView) []typesView
		want string // "" : no problem
	}{
		{"good", func(v typesView) []typesView { return []typesView{v, v} }, ""},
		{"bit lost", func(v typesView) []typesView { v.bits = "\x00\x40"; return []typesView{v} }, "acknowledged and is not there"},
		{"refused bit there", func(v typesView) []typesView { v.bits = "\x90\x40"; return []typesView{v} }, "refused and is there"},
		{"bit never sent", func(v typesView) []typesView { v.bits = "\x80\x41"; return []typesView{v} }, "never sent"},
		{"member lost", func(v typesView) []typesView { v.geo = nil; return []typesView{v} }, "acknowledged and is not there"},
		{"refused member there", func(v typesView) []typesView { v.geo = []any{"m1", "1", "m4", "1"}; return []typesView{v} }, "refused and is there"},
		{"restored key lost", func(v typesView) []typesView { v.restored = []any{nil, nil, nil}; return []typesView{v} }, "acknowledged and is not there"},
		{"refused key restored", func(v typesView) []typesView { v.restored = []any{"r6", "r7", nil}; return []typesView{v} }, "refused and is there"},
		{"restored value wrong", func(v typesView) []typesView { v.restored = []any{"r7", nil, nil}; return []typesView{v} }, "holds"},
		{"count off", func(v typesView) []typesView { v.count = 9; return []typesView{v} }, "PFCOUNT 9"},
		{"nodes differ", func(v typesView) []typesView { w := v; w.node, w.hll = "n2", "x"; return []typesView{v, w} }, "hold different"},
	}
	for _, tc := range cases {
		got := checkTypes(sent, tc.view(good))
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: %q", tc.name, got)
		case tc.want != "" && !strings.Contains(strings.Join(got, "\n"), tc.want):
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
