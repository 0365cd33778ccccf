package acl

import (
	"errors"
	"fmt"
	"strings"
)

// CmdID identifies a command or subcommand of a Catalog. Selectors keep
// the commands they allow as a bitmap indexed by it, as Redis does.
type CmdID int32

// Command describes one command to the ACL model.
type Command struct {
	// Name is the lowercase command name. A subcommand may be named
	// either by itself ("get") or in full ("config|get").
	Name string
	// Categories has bit i set when the command belongs to category i
	// of the catalog's category list.
	Categories uint64
	// NoAuth is Redis's no_auth flag (AUTH, HELLO): such a command passes
	// the command check whatever the user's command rules say.
	NoAuth bool
	// Subcommands are one level deep, as in Redis.
	Subcommands []Command
}

type entry struct {
	name   string // full lowercase name: "get", "config|get"
	cats   uint64
	noAuth bool
	parent CmdID // -1 for a top-level command
	subs   []CmdID
}

// Catalog is the immutable set of commands and categories the rules
// refer to. Its order (commands, then each one's subcommands, as given)
// is the order ACL CAT lists them and the order descriptions name them.
type Catalog struct {
	categories []string
	entries    []entry
	top        []CmdID
	ids        map[string]CmdID // full lowercase name
}

// RedisCategories returns Redis 7.0's ACL categories in their order.
func RedisCategories() []string {
	return []string{
		"keyspace", "read", "write", "set", "sortedset", "list", "hash",
		"string", "bitmap", "hyperloglog", "geo", "stream", "pubsub",
		"admin", "fast", "slow", "blocking", "dangerous", "connection",
		"transaction", "scripting",
	}
}

// NewCatalog builds a catalog. It fails on more than 64 categories, on
// duplicate or empty names and on category bits past the list.
func NewCatalog(categories []string, cmds []Command) (*Catalog, error) {
	if len(categories) > 64 {
		return nil, errors.New("acl: more than 64 categories")
	}
	c := &Catalog{
		categories: append([]string(nil), categories...),
		ids:        make(map[string]CmdID),
	}
	seen := make(map[string]bool)
	for _, name := range categories {
		if name == "" || name == "all" || lower(name) != name || seen[name] {
			return nil, fmt.Errorf("acl: bad category name %q", name)
		}
		seen[name] = true
	}
	valid := ^uint64(0)
	if len(categories) < 64 {
		valid = 1<<len(categories) - 1
	}
	var add func(cmd Command, parent CmdID) (CmdID, error)
	add = func(cmd Command, parent CmdID) (CmdID, error) {
		name, base := cmd.Name, cmd.Name
		if parent >= 0 {
			prefix := c.entries[parent].name + "|"
			base = strings.TrimPrefix(base, prefix)
			name = prefix + base
			if len(cmd.Subcommands) > 0 {
				return 0, fmt.Errorf("acl: subcommand %q has subcommands", name)
			}
		}
		if base == "" || lower(name) != name || strings.Contains(base, "|") || cstr(name) != name {
			return 0, fmt.Errorf("acl: bad command name %q", name)
		}
		if _, dup := c.ids[name]; dup {
			return 0, fmt.Errorf("acl: duplicate command %q", name)
		}
		if cmd.Categories&^valid != 0 {
			return 0, fmt.Errorf("acl: command %q has an unknown category bit", name)
		}
		id := CmdID(len(c.entries))
		c.entries = append(c.entries, entry{name: name, cats: cmd.Categories, noAuth: cmd.NoAuth, parent: parent})
		c.ids[name] = id
		for _, sub := range cmd.Subcommands {
			sid, err := add(sub, id)
			if err != nil {
				return 0, err
			}
			c.entries[id].subs = append(c.entries[id].subs, sid)
		}
		return id, nil
	}
	for _, cmd := range cmds {
		id, err := add(cmd, -1)
		if err != nil {
			return nil, err
		}
		c.top = append(c.top, id)
	}
	return c, nil
}

// Len is the number of commands and subcommands; ids run from 0 to Len-1.
func (c *Catalog) Len() int { return len(c.entries) }

// Categories returns the category names in order.
func (c *Catalog) Categories() []string { return append([]string(nil), c.categories...) }

// ID returns the id of a command or "parent|sub" subcommand, matched
// without regard to case.
func (c *Catalog) ID(fullname string) (CmdID, bool) {
	id, ok := c.ids[lower(fullname)]
	return id, ok
}

// Name returns the full lowercase name of a command ("config|get").
func (c *Catalog) Name(id CmdID) string {
	if !c.valid(id) {
		return ""
	}
	return c.entries[id].name
}

// Parent returns the container of a subcommand, or -1.
func (c *Catalog) Parent(id CmdID) CmdID {
	if !c.valid(id) {
		return -1
	}
	return c.entries[id].parent
}

func (c *Catalog) valid(id CmdID) bool { return id >= 0 && int(id) < len(c.entries) }

// category returns the bit of a category name, matched without regard to
// case as C strings, or 0.
func (c *Catalog) category(name string) uint64 {
	for i, n := range c.categories {
		if strcaseEq(name, n) {
			return 1 << i
		}
	}
	return 0
}

// lookupRule resolves a command named in a rule the way ACLLookupCommand
// does: "cmd" or "cmd|sub", the latter only for a command that has
// subcommands; anything else is not found.
func (c *Catalog) lookupRule(name string) (CmdID, bool) {
	name = cstr(name)
	parts := strings.Split(name, "|")
	if len(parts) > 2 {
		return 0, false
	}
	base, ok := c.ids[lower(parts[0])]
	if !ok || c.entries[base].parent >= 0 {
		return 0, false
	}
	if len(parts) == 1 {
		return base, true
	}
	if len(c.entries[base].subs) == 0 {
		return 0, false
	}
	id, ok := c.ids[c.entries[base].name+"|"+lower(parts[1])]
	return id, ok
}

// CommandsIn lists the commands of a category as ACL CAT <category> does,
// subcommands as "parent|sub". An unknown category gives Redis's error.
func (c *Catalog) CommandsIn(category string) ([]string, error) {
	flag := c.category(category)
	if flag == 0 {
		name := cstr(category)
		if len(name) > 128 {
			name = name[:128]
		}
		return nil, fmt.Errorf("ERR Unknown category '%s'", name)
	}
	var out []string
	for _, id := range c.top {
		e := &c.entries[id]
		if e.cats&flag != 0 {
			out = append(out, e.name)
		}
		for _, sid := range e.subs {
			if c.entries[sid].cats&flag != 0 {
				out = append(out, c.entries[sid].name)
			}
		}
	}
	return out, nil
}
