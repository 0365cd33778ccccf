package commands

import (
	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/pubsub"
)

// Pub/Sub (docs/consistency.md, Pub/Sub). PUBLISH and SPUBLISH are ops:
// PUBLISH goes through partition 0's log, SPUBLISH through its channel's
// partition's, and every node that applies one hands the message to its
// hub (the Table's PubSub), which queues it for the node's own
// subscribers. Subscriptions are the connection's, on the node it is
// connected to; they are in no replicated state.

// ChannelArgs says which arguments of a command are Pub/Sub channels, for
// the ACL channel rules (Redis's getChannelsFromCommand).
type ChannelArgs uint8

// Channel argument shapes.
const (
	NoChannels   ChannelArgs = iota
	FirstChannel             // PUBLISH, SPUBLISH: argument 1
	AllChannels              // SUBSCRIBE, SSUBSCRIBE: every argument
	AllPatterns              // PSUBSCRIBE: every argument, a pattern
)

// aclChannels returns the channels of args the ACL checks.
func (c *Command) aclChannels(args [][]byte) []acl.ChannelRef {
	switch c.Channels {
	case FirstChannel:
		if len(args) > 1 {
			return []acl.ChannelRef{{Pos: 1}}
		}
	case AllChannels, AllPatterns:
		refs := make([]acl.ChannelRef, 0, len(args)-1)
		for i := 1; i < len(args); i++ {
			refs = append(refs, acl.ChannelRef{Pos: i, Pattern: c.Channels == AllPatterns})
		}
		return refs
	}
	return nil
}

func registerPubSub(t *Table) {
	sub := FlagPubsub | FlagNoScript | FlagLoading | FlagStale
	notKey := []KeySpec{{Flags: KeyNotKey, Index: 1, LastKey: -1, KeyStep: 1}}
	t.add(
		&Command{Name: "subscribe", Arity: -2, Flags: sub, Group: "pubsub", Since: "2.0.0",
			Complexity: "O(N) where N is the number of channels to subscribe to.",
			Summary:    "Listen for messages published to the given channels", Handler: cmdSubscribe,
			Channels: AllChannels, Args: []Arg{argString("channel").multiple()}},
		&Command{Name: "unsubscribe", Arity: -1, Flags: sub, Group: "pubsub", Since: "2.0.0",
			Complexity: "O(N) where N is the number of clients already subscribed to a channel.",
			Summary:    "Stop listening for messages posted to the given channels", Handler: cmdUnsubscribe,
			Args: []Arg{argString("channel").optional().multiple()}},
		&Command{Name: "psubscribe", Arity: -2, Flags: sub, Group: "pubsub", Since: "2.0.0",
			Complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
			Summary:    "Listen for messages published to channels matching the given patterns", Handler: cmdPSubscribe,
			Channels: AllPatterns, Args: []Arg{argBlock("pattern", argPattern("pattern")).multiple()}},
		&Command{Name: "punsubscribe", Arity: -1, Flags: sub, Group: "pubsub", Since: "2.0.0",
			Complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
			Summary:    "Stop listening for messages posted to channels matching the given patterns", Handler: cmdPUnsubscribe,
			Args: []Arg{argPattern("pattern").optional().multiple()}},
		&Command{Name: "ssubscribe", Arity: -2, Flags: sub, Group: "pubsub", Since: "7.0.0", Keys: notKey,
			Complexity: "O(N) where N is the number of shard channels to subscribe to.",
			Summary:    "Listen for messages published to the given shard channels", Handler: cmdSSubscribe,
			Channels: AllChannels, Args: []Arg{argString("shardchannel").multiple()}},
		&Command{Name: "sunsubscribe", Arity: -1, Flags: sub, Group: "pubsub", Since: "7.0.0", Keys: notKey,
			Complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
			Summary:    "Stop listening for messages posted to the given shard channels", Handler: cmdSUnsubscribe,
			Args: []Arg{argString("shardchannel").optional().multiple()}},
		&Command{Name: "publish", Arity: 3, Flags: FlagPubsub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate,
			Group: "pubsub", Since: "2.0.0",
			Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Summary:    "Post a message to a channel", Handler: cmdPublish,
			Channels: FirstChannel, Args: []Arg{argString("channel"), argString("message")}},
		&Command{Name: "spublish", Arity: 3, Flags: FlagPubsub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate,
			Group: "pubsub", Since: "7.0.0", Keys: []KeySpec{{Flags: KeyNotKey, Index: 1, LastKey: 0, KeyStep: 1}},
			Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			Summary:    "Post a message to a shard channel", Handler: cmdSPublish,
			Channels: FirstChannel, Args: []Arg{argString("shardchannel"), argString("message")}},
	)
	registerPubSubIntrospection(t)
	t.applier(op.Publish, func(ks *keyspace.Store, o *op.Op) any { return t.applyPublish(ks, o, false) })
	t.applier(op.SPublish, func(ks *keyspace.Store, o *op.Op) any { return t.applyPublish(ks, o, true) })
}

// PubSub is the node's Pub/Sub hub.
func (t *Table) PubSub() *pubsub.Hub { return t.hub }

// applyPublish hands the message to the hub when ks is one of the node's
// replicated stores; a transaction's preview (a scratch store) only counts.
func (t *Table) applyPublish(ks *keyspace.Store, o *op.Op, shard bool) any {
	if !t.hub.Live(ks) {
		return int64(t.hub.Receivers(o.Args[0], shard))
	}
	return int64(t.hub.Publish(o.Args[0], o.Args[1], shard))
}

// ShardChannelPositions returns the indexes of args that are shard
// channels (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH): not keys, but hashed to
// a partition as keys are.
func (c *Command) ShardChannelPositions(args [][]byte) []int {
	var pos []int
	for _, k := range c.Keys {
		if k.Flags&KeyNotKey == 0 {
			continue
		}
		last := len(args) + k.LastKey
		if k.LastKey >= 0 {
			last = k.Index + k.LastKey
		}
		for p := k.Index; p <= last && p < len(args); p++ {
			pos = append(pos, p)
		}
	}
	return pos
}

// hasKeys is Redis's doesCommandHaveKeys: a key finder, or a key spec
// that is not NOT_KEY (SPUBLISH's channel is not a key).
func (c *Command) hasKeys() bool {
	if c.GetKeys != nil {
		return true
	}
	for _, k := range c.Keys {
		if k.Flags&KeyNotKey == 0 {
			return true
		}
	}
	return false
}

func cmdSubscribe(c *Ctx)  { subscribe(c, pubsub.Channel, "subscribe") }
func cmdPSubscribe(c *Ctx) { subscribe(c, pubsub.Pattern, "psubscribe") }
func cmdSSubscribe(c *Ctx) { subscribe(c, pubsub.Shard, "ssubscribe") }

func cmdUnsubscribe(c *Ctx)  { unsubscribe(c, pubsub.Channel, "unsubscribe") }
func cmdPUnsubscribe(c *Ctx) { unsubscribe(c, pubsub.Pattern, "punsubscribe") }
func cmdSUnsubscribe(c *Ctx) { unsubscribe(c, pubsub.Shard, "sunsubscribe") }

// errNoPubSub answers a subscription on a connection that has no queue
// (none of a client's has not).
const errNoPubSub = "ERR Pub/Sub is not available on this connection"

// holdQueue puts the messages queued for the connection before this
// command into its replies, and holds those that come after until the
// replies are written: a confirmation and the messages around it reach
// the client in the order Redis sends them.
func holdQueue(c *Ctx) *pubsub.Sub {
	s := c.S.Sub
	if s == nil {
		return nil
	}
	if _, inBlock := c.Node.(*blockNode); inBlock {
		s.Pause() // inside EXEC's reply: they follow it
		return s
	}
	c.W.Raw(s.Hold())
	return s
}

func subscribe(c *Ctx, kind pubsub.Kind, confirm string) {
	s := holdQueue(c)
	if s == nil {
		c.W.Error(errNoPubSub)
		return
	}
	s.SetProto(c.S.Proto())
	s.Activate()
	for _, name := range c.Args[1:] {
		c.Table.hub.Subscribe(s, kind, name)
		writeSubscription(c, confirm, name, subCount(s, kind))
	}
	c.S.noteSubscriptions()
}

func unsubscribe(c *Ctx, kind pubsub.Kind, confirm string) {
	s := holdQueue(c)
	if s == nil {
		c.W.Error(errNoPubSub)
		return
	}
	if len(c.Args) > 1 {
		for _, name := range c.Args[1:] {
			c.Table.hub.Unsubscribe(s, kind, name)
			writeSubscription(c, confirm, name, subCount(s, kind))
		}
	} else {
		names := c.Table.hub.UnsubscribeAll(s, kind)
		left := subCount(s, kind)
		if len(names) == 0 {
			writeSubscription(c, confirm, nil, left)
		}
		for i, n := range names {
			writeSubscription(c, confirm, []byte(n), left+len(names)-1-i)
		}
	}
	c.S.noteSubscriptions()
}

// subCount is the count a confirmation carries: channels and patterns
// together, shard channels on their own (as Redis counts them).
func subCount(s *pubsub.Sub, kind pubsub.Kind) int {
	if kind == pubsub.Shard {
		return s.ShardCount()
	}
	return s.Count()
}

// writeSubscription writes a confirmation: a push in RESP3; name nil is
// the null of an unsubscribe from nothing.
func writeSubscription(c *Ctx, confirm string, name []byte, count int) {
	c.W.Push(3)
	c.W.BulkString(confirm)
	if name == nil {
		c.W.Null()
	} else {
		c.W.Bulk(name)
	}
	c.W.Int(int64(count))
}

// noteSubscriptions publishes the counts CLIENT LIST shows.
func (s *Session) noteSubscriptions() {
	if s.Sub == nil {
		return
	}
	s.SetSubscriptions(s.Sub.Len(pubsub.Channel), s.Sub.Len(pubsub.Pattern), s.Sub.Len(pubsub.Shard))
}

// Subscribed reports whether the connection is in Pub/Sub mode.
func (s *Session) Subscribed() bool { return s.Sub != nil && s.Sub.Subscribed() }

// LeavePubSub drops every subscription of the connection (RESET; the
// server calls the hub's Leave when the connection ends).
func (t *Table) LeavePubSub(s *Session) {
	if s.Sub == nil {
		return
	}
	for _, k := range []pubsub.Kind{pubsub.Channel, pubsub.Pattern, pubsub.Shard} {
		t.hub.UnsubscribeAll(s.Sub, k)
	}
	s.noteSubscriptions()
}

// SubscribedReject is processCommand's check of a RESP2 connection in
// Pub/Sub mode: "" when cmd may run, otherwise Redis's error.
func SubscribedReject(s *Session, cmd *Command) string {
	if s.Proto() != 2 || !s.Subscribed() {
		return ""
	}
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return ""
	}
	return "ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

func cmdPublish(c *Ctx)  { publish(c, op.Publish, false) }
func cmdSPublish(c *Ctx) { publish(c, op.SPublish, true) }

// publish proposes the message and replies with the number of receivers
// on this node (as a Redis Cluster node counts its own): the applying
// node's count when the leader applied it for this connection, otherwise
// this node's subscribers once the message is committed.
func publish(c *Ctx, typ op.Type, shard bool) {
	o := &op.Op{Type: typ, Now: c.Now(), Args: [][]byte{c.Args[1], c.Args[2]}}
	if c.Defer != nil && c.Defer(o) {
		return
	}
	if _, err := c.Node.Propose(o); err != nil {
		c.W.Error(nodeError(err))
		return
	}
	c.takeEarly()
	c.W.Int(int64(c.Table.hub.Receivers(c.Args[1], shard)))
}
