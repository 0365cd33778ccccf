package server

import (
	"strings"
	"testing"
)

// FuzzDirectiveValues: every Redis directive's check (CONFIG SET's
// parser) takes any value without panicking, and what it accepts it
// accepts again in CONFIG GET's form, unchanged.
func FuzzDirectiveValues(f *testing.F) {
	for _, seed := range []string{"yes", "10%", "0777", "1gb", "-1", "900 1 300 10", "", "0 200 800", "50 99.9"} {
		f.Add(seed)
	}
	table := redisDirectiveTable()
	f.Fuzz(func(t *testing.T, val string) {
		if canon, err := canonicalSave(val); err == nil {
			if again, err := canonicalSave(canon); err != nil || again != canon {
				t.Fatalf("save %q -> %q -> %q, %v", val, canon, again, err)
			}
		}
		for _, d := range table {
			st := inertSetting(d)
			if st.set == nil {
				continue
			}
			var v confValues
			if err := st.set(nil, &v, val); err != nil {
				continue
			}
			canon := st.get(nil, &v)
			var w confValues
			if err := st.set(nil, &w, canon); err != nil || st.get(nil, &w) != canon {
				if !strings.Contains(d.name, "percentiles") { // floats print shorter
					t.Fatalf("%s %q -> %q: %v", d.name, val, canon, err)
				}
			}
		}
	})
}
