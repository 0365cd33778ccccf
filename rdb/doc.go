// Package rdb owns Redis 7.0's RDB serialization of values: the object
// encodings RDB version 10 writes (and the older ones Redis still loads),
// the DUMP payload's footer (version and CRC64), LZF, listpacks,
// ziplists, zipmaps and intsets, and the reading of whole RDB files.
//
// It works on plain values (Value) and imports nothing of the project, so
// the keyspace never depends on Redis's formats. Decoding validates as
// Redis's sanitize-dump-payload yes does: a damaged payload is an error,
// never a panic, and never an allocation larger than the input can back.
package rdb
