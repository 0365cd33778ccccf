package commands

// SORT and SORT_RO, as Redis 7.0's sort.c. SORT without STORE is a read;
// with STORE it proposes one SortStore op whose applier sorts again on
// every node from the keyspace it applies to (the sort is deterministic
// given the keyspace), so nothing computed here travels in the op.

import (
	"errors"
	"strings"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errSortScores = errors.New("ERR One or more scores can't be converted into double")
	errSortByACL  = errors.New("ERR BY option of SORT denied due to insufficient ACL permissions.")
	errSortGetACL = errors.New("ERR GET option of SORT denied due to insufficient ACL permissions.")
	// With several partitions, as in Redis Cluster: a pattern's keys may
	// be in any partition.
	errSortByCluster  = errors.New("ERR BY option of SORT denied in Cluster mode.")
	errSortGetCluster = errors.New("ERR GET option of SORT denied in Cluster mode.")
)

func registerSort(t *Table) {
	// The notes are Redis's, word for word: COMMAND INFO shows them.
	const (
		patternNotes = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"
		storeNotes   = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"
		complexity   = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."
	)
	source := KeySpec{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}
	patterns := KeySpec{Notes: patternNotes, Flags: KeyRO | KeyAccess}
	args := func(store bool) []Arg {
		a := []Arg{
			argKey("key", 0),
			argPattern("pattern").token("BY").keySpec(1).optional(),
			argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional(),
			argPattern("pattern").token("GET").keySpec(1).optional().multiple().multipleToken(),
			argOneof("order", argToken("asc", "ASC"), argToken("desc", "DESC")).optional(),
			argToken("sorting", "ALPHA").optional(),
		}
		if store {
			a = append(a, argKey("destination", 2).token("STORE").optional())
		}
		return a
	}
	t.add(
		&Command{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM, Categories: CatSet | CatSortedSet | CatList | CatDangerous,
			Keys:    []KeySpec{source, patterns, {Notes: storeNotes, Flags: KeyOW | KeyUpdate}},
			GetKeys: sortGetKeys,
			Group:   "generic", Since: "1.0.0", Complexity: complexity,
			Summary: "Sort the elements in a list, set or sorted set", Handler: cmdSort,
			Args: args(true)},
		&Command{Name: "sort_ro", Arity: -2, Flags: FlagReadonly, Categories: CatSet | CatSortedSet | CatList | CatDangerous,
			Keys:    []KeySpec{source, patterns},
			GetKeys: sortGetKeys,
			Group:   "generic", Since: "7.0.0", Complexity: complexity,
			Summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Handler: cmdSort,
			Args: args(false)},
	)
	t.applier(op.SortStore, applySortStore)
}

// sortGetKeys is Redis's sortGetKeys (and sortROGetKeys): the source, and
// for SORT the destination of the last STORE, found skipping the options'
// arguments as Redis does.
func sortGetKeys(args [][]byte, fn func(pos int, flags KeyFlag)) {
	if len(args) < 2 {
		return
	}
	fn(1, KeyRO|KeyAccess)
	if !eq(args[0], "SORT") {
		return
	}
	store := -1
	for i := 2; i < len(args); i++ {
		switch {
		case eq(args[i], "LIMIT"):
			i += 2
		case eq(args[i], "GET"), eq(args[i], "BY"):
			i++
		case eq(args[i], "STORE") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		fn(store, KeyOW|KeyUpdate)
	}
}

// sortReadsPatterns reports whether a SORT reads keys named by the data:
// a BY or GET pattern (a block must then see the whole keyspace).
func sortReadsPatterns(cmd *Command, args [][]byte) bool {
	if cmd.Name != "sort" && cmd.Name != "sort_ro" {
		return false
	}
	for i := 2; i+1 < len(args); i++ {
		if eq(args[i], "BY") || eq(args[i], "GET") {
			return true
		}
	}
	return false
}

// sortSpec is SORT's options, parsed as sortCommandGeneric parses them.
type sortSpec struct {
	desc, alpha bool
	// dontsort: a BY pattern without '*' was given (it stays set even if
	// a later BY has one, as in Redis).
	dontsort     bool
	start, count int64 // LIMIT; count -1: all
	by           []byte
	gets         [][]byte
	store        []byte
}

// parseSort parses the options after the key. fullKeys, if not nil, is
// asked before a BY pattern or a GET is accepted (Redis's ACL check for
// options that read keys the data names); it is nil in the applier.
// partitioned refuses them, as Redis Cluster does.
func parseSort(opts [][]byte, readonly, partitioned bool, fullKeys func() bool) (sortSpec, error) {
	sp := sortSpec{count: -1}
	for j := 0; j < len(opts); j++ {
		left := len(opts) - j - 1
		a := opts[j]
		switch {
		case eq(a, "ASC"):
			sp.desc = false
		case eq(a, "DESC"):
			sp.desc = true
		case eq(a, "ALPHA"):
			sp.alpha = true
		case eq(a, "LIMIT") && left >= 2:
			start, ok1 := parseInt(opts[j+1])
			count, ok2 := parseInt(opts[j+2])
			if !ok1 || !ok2 {
				return sp, errNotInt
			}
			sp.start, sp.count = start, count
			j += 2
		case !readonly && eq(a, "STORE") && left >= 1:
			sp.store = opts[j+1]
			j++
		case eq(a, "BY") && left >= 1:
			sp.by = opts[j+1]
			if !strings.Contains(string(cstr(sp.by)), "*") {
				sp.dontsort = true
			} else if partitioned {
				return sp, errSortByCluster
			} else if fullKeys != nil && !fullKeys() {
				return sp, errSortByACL
			}
			j++
		case eq(a, "GET") && left >= 1:
			if partitioned {
				return sp, errSortGetCluster
			}
			if fullKeys != nil && !fullKeys() {
				return sp, errSortGetACL
			}
			sp.gets = append(sp.gets, opts[j+1])
			j++
		default:
			return sp, errSyntax
		}
	}
	return sp, nil
}

// fullKeyAccess is ACLUserCheckCmdWithUnrestrictedKeyAccess for the
// command being run: may its user read any key?
func (c *Ctx) fullKeyAccess() bool {
	ref := c.S.UserRef()
	if ref == nil {
		ref = c.Table.acl.Users.Default()
	}
	u := ref.User()
	if u == nil {
		return false
	}
	return u.AllowsEverything() || u.CheckCmdUnrestrictedKeys(c.Cmd.aclID, c.Args, c.Cmd.aclKeys(c.Args), acl.PermRead)
}

// cmdSort serves SORT and SORT_RO.
func cmdSort(c *Ctx) {
	pn, ok := c.Node.(PartitionedNode)
	sp, err := parseSort(c.Args[2:], c.Cmd.Name == "sort_ro", ok && pn.Partitions() > 1, c.fullKeyAccess)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if sp.store != nil {
		c.propose(&op.Op{Type: op.SortStore, DB: c.S.DB, Args: c.Args[1:]})
		return
	}
	c.read(func(db *keyspace.DB) {
		out, err := runSort(db, c.Now(), c.Args[1], &sp, c.InScript)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		c.W.Array(len(out))
		for _, e := range out {
			if e == nil {
				c.W.Null()
			} else {
				c.W.Bulk(e)
			}
		}
	})
}

// applySortStore sorts as the handler parsed and stores the result as a
// new list at the destination, or deletes it when the result is empty.
func applySortStore(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) < 1 {
		return errBadOp
	}
	sp, err := parseSort(o.Args[1:], false, false, nil)
	if err != nil {
		return err
	}
	if sp.store == nil {
		return errBadOp
	}
	db := ks.DB(o.DB)
	out, err := runSort(db, o.Now, o.Args[0], &sp, false)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		storeEmpty(db, sp.store, o.Now)
		return int64(0)
	}
	l, fill := keyspace.NewList(), listFill(ks)
	for _, e := range out {
		l.Push(e, true, fill) // a missing GET stores "" (e is nil)
	}
	db.Set(sp.store, keyspace.ObjectValue(l), 0)
	db.Notify(keyspace.EventList, "sortstore", sp.store)
	return int64(len(out))
}
