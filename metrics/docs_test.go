package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// ownNames returns the names of every metric the node's collectors
// describe (not Go's and the process's).
func ownNames(t *testing.T) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc, 100)
	src := fakeSource{}
	newRedisCollector(src).Describe(ch)
	newRaftCollector(src).Describe(ch)
	close(ch)
	names := map[string]bool{}
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("desc %s", d)
		}
		names[m[1]] = true
	}
	return names
}

// TestDocs: docs/operations.md lists every metric, and the Grafana
// dashboard parses and uses only metrics that exist.
func TestDocs(t *testing.T) {
	names := ownNames(t)
	if len(names) != 50 {
		t.Fatalf("%d metrics described, want 50 (22 redis_*, 28 loomcache_*)", len(names))
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		if !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("docs/operations.md does not list %s", name)
		}
	}
	data, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	metric := regexp.MustCompile(`\b(?:redis|loomcache)_[a-z_]+`)
	used := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				base := m
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if !names[base] && strings.HasSuffix(base, suffix) {
						base = strings.TrimSuffix(base, suffix)
					}
				}
				if !names[base] {
					t.Errorf("panel %q uses %s, which no collector exports", p.Title, m)
				}
				used++
			}
		}
	}
	if used == 0 {
		t.Error("the dashboard uses no metric")
	}
}
