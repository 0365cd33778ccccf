package commands

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// docs/commands.md must list every command of the table, and nothing else.
func TestCommandsDocCoversTable(t *testing.T) {
	b, err := os.ReadFile("../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([A-Z._]+) \|`).FindAllStringSubmatch(string(b), -1) {
		listed[strings.ToLower(m[1])] = true
	}
	for _, c := range NewTable().Commands() {
		if !listed[c.Name] {
			t.Errorf("docs/commands.md does not list %s", strings.ToUpper(c.Name))
		}
		delete(listed, c.Name)
	}
	for name := range listed {
		t.Errorf("docs/commands.md lists %s, which the table lacks", strings.ToUpper(name))
	}
}
