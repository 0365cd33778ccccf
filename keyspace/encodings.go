package keyspace

// EncodingLimits are Redis's encoding thresholds (the *-max-* directives).
// A value kind reads them when it chooses its encoding, as Redis does: a
// hash of at most HashMaxListpackEntries fields, none longer than
// HashMaxListpackValue bytes, is a listpack, and a hashtable past that.
// Each field is named after its Redis 7.0 directive (the server's CONFIG
// table parses and checks them); the comment gives Redis's default.
type EncodingLimits struct {
	HashMaxListpackEntries int64 // hash-max-listpack-entries 512
	HashMaxListpackValue   int64 // hash-max-listpack-value 64 (bytes)
	SetMaxIntsetEntries    int64 // set-max-intset-entries 512
	ZsetMaxListpackEntries int64 // zset-max-listpack-entries 128
	ZsetMaxListpackValue   int64 // zset-max-listpack-value 64 (bytes)
	// ListMaxListpackSize is a quicklist node's size: positive, at most
	// that many entries; -1 to -5, at most 4KB, 8KB, 16KB, 32KB or 64KB.
	ListMaxListpackSize  int64 // list-max-listpack-size -2
	ListCompressDepth    int64 // list-compress-depth 0 (nodes left uncompressed at each end; 0: none compressed)
	StreamNodeMaxBytes   int64 // stream-node-max-bytes 4096 (0: no limit)
	StreamNodeMaxEntries int64 // stream-node-max-entries 100 (0: no limit)
	HllSparseMaxBytes    int64 // hll-sparse-max-bytes 3000
}

// DefaultEncodingLimits are Redis 7.0's defaults (src/config.c, and the
// same in its redis.conf).
func DefaultEncodingLimits() EncodingLimits {
	return EncodingLimits{
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ZsetMaxListpackEntries: 128,
		ZsetMaxListpackValue:   64,
		ListMaxListpackSize:    -2,
		ListCompressDepth:      0,
		StreamNodeMaxBytes:     4096,
		StreamNodeMaxEntries:   100,
		HllSparseMaxBytes:      3000,
	}
}
