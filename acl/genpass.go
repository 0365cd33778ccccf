package acl

import (
	"crypto/rand"
	"encoding/hex"
)

// genpassMaxBits is GENPASS_MAX_BITS.
const genpassMaxBits = 4096

// GenPassError is ACL GENPASS's reply for bits out of range.
const GenPassError = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"

// GenPass is ACL GENPASS [bits] (256 by default): a random lowercase hex
// string of (bits+3)/4 characters from crypto/rand. The caller parses
// bits as Redis's getLongFromObjectOrReply does.
func GenPass(bits int64) (string, error) {
	if bits <= 0 || bits > genpassMaxBits {
		return "", replyError(GenPassError)
	}
	chars := int((bits + 3) / 4)
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf)[:chars], nil
}
