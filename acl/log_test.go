package acl

import (
	"fmt"
	"testing"
)

func TestLogGroupsSimilarEntries(t *testing.T) {
	l := NewLog(128)
	e := func(reason Reason, ctx Context, obj, user, info string) LogEntry {
		return LogEntry{Reason: reason, Context: ctx, Object: obj, Username: user, ClientInfo: info}
	}
	l.Add(e(DeniedKey, ContextToplevel, "k", "u", "c1"), 1000)
	l.Add(e(DeniedKey, ContextToplevel, "k", "u", "c2"), 2000)            // grouped
	l.Add(e(DeniedKey, ContextMulti, "k", "u", "c3"), 3000)               // other context
	l.Add(e(DeniedCommand, ContextToplevel, "k", "u", "c4"), 4000)        // other reason
	l.Add(e(DeniedKey, ContextToplevel, "k", "v", "c5"), 5000)            // other user
	l.Add(e(DeniedKey, ContextToplevel, "k", "u", "c6"), 62000)           // 60 s after 2000: grouped, moved first
	l.Add(e(DeniedKey, ContextToplevel, "k", "u", "c7"), 122001)          // 60.001 s later: new
	l.Add(e(DeniedAuth, ContextToplevel, "AUTH", "nosuch", "c8"), 123000) // auth
	got := l.Entries(10)
	want := []struct {
		count int64
		obj   string
		user  string
		info  string
		time  int64
	}{
		{1, "AUTH", "nosuch", "c8", 123000},
		{1, "k", "u", "c7", 122001},
		{3, "k", "u", "c6", 62000},
		{1, "k", "v", "c5", 5000},
		{1, "k", "u", "c4", 4000},
		{1, "k", "u", "c3", 3000},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Count != w.count || g.Object != w.obj || g.Username != w.user || g.ClientInfo != w.info || g.TimeMs != w.time {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	if age := got[0].AgeSeconds(124500); age != 1.5 {
		t.Errorf("AgeSeconds = %v", age)
	}
	if got[1].Reason.String() != "key" || got[4].Reason.String() != "command" || got[5].Context.String() != "multi" {
		t.Error("reason and context names")
	}
}

func TestLogScansTenNewest(t *testing.T) {
	l := NewLog(128)
	for i := range 11 {
		l.Add(LogEntry{Reason: DeniedKey, Object: fmt.Sprint(i)}, int64(i))
	}
	l.Add(LogEntry{Reason: DeniedKey, Object: "0"}, 20) // 11th newest: not found
	l.Add(LogEntry{Reason: DeniedKey, Object: "2"}, 21) // 10th newest: grouped
	got := l.Entries(100)
	if len(got) != 12 || got[0].Object != "2" || got[0].Count != 2 || got[1].Object != "0" || got[1].Count != 1 {
		t.Errorf("entries: %+v", got[:3])
	}
}

func TestLogLimits(t *testing.T) {
	l := NewLog(3)
	for i := range 5 {
		l.Add(LogEntry{Object: fmt.Sprint(i)}, int64(i)*100000)
	}
	if got := l.Entries(10); len(got) != 3 || got[0].Object != "4" || got[2].Object != "2" {
		t.Errorf("max len 3: %+v", got)
	}
	if got := l.Entries(2); len(got) != 2 {
		t.Errorf("Entries(2): %d", len(got))
	}
	if got := l.Entries(-1); len(got) != 0 {
		t.Errorf("Entries(-1): %d", len(got))
	}
	l.SetMaxLen(1)
	if l.Len() != 3 {
		t.Error("SetMaxLen trims only at the next Add, as Redis")
	}
	l.Add(LogEntry{Object: "x"}, 1e9)
	if l.Len() != 1 {
		t.Errorf("Len after Add = %d", l.Len())
	}
	l.SetMaxLen(0)
	l.Add(LogEntry{Object: "y"}, 2e9)
	if l.Len() != 0 {
		t.Errorf("acllog-max-len 0 keeps %d", l.Len())
	}
	l.SetMaxLen(5)
	l.Add(LogEntry{Object: "z"}, 3e9)
	l.Reset()
	if l.Len() != 0 || len(l.Entries(10)) != 0 {
		t.Error("Reset")
	}
}
