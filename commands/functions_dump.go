package commands

import (
	"errors"

	"github.com/loomcache/loomcache/rdb"
)

// FUNCTION DUMP's payload is Redis's: per library the RDB opcode
// FUNCTION2 and the code as an RDB string, then the RDB version (2 bytes)
// and a CRC64 (Jones) of everything before, both little endian. A Redis
// payload restores here and this one in Redis, so functions move between
// them as they are.

const rdbOpcodeFunction2 = 245

var (
	errDumpPayload   = rdb.ErrChecksum
	errDumpType      = errors.New("ERR can not read data type")
	errDumpNotFunc   = errors.New("ERR given type is not a function")
	errDumpBadLoaded = errors.New("ERR failed loading the given functions payload")
)

// dumpFunctions encodes libraries' code as FUNCTION DUMP does
// (rdbSaveFunctions: each code an rdbSaveRawString, LZF when it pays).
func dumpFunctions(codes []string) []byte {
	var b []byte
	for _, code := range codes {
		b = append(b, rdbOpcodeFunction2)
		b = rdb.AppendString(b, []byte(code))
	}
	return rdb.Payload(b)
}

// restoreFunctions decodes a FUNCTION DUMP payload into the libraries'
// code, with Redis's errors.
func restoreFunctions(p []byte) ([]string, error) {
	b, err := rdb.Verify(p)
	if err != nil {
		return nil, errDumpPayload
	}
	var codes []string
	for len(b) > 0 {
		typ := b[0]
		b = b[1:]
		if typ != rdbOpcodeFunction2 {
			return nil, errDumpNotFunc
		}
		code, rest, err := rdb.ReadString(b)
		if err != nil {
			return nil, errDumpBadLoaded
		}
		codes, b = append(codes, string(code)), rest
	}
	return codes, nil
}
