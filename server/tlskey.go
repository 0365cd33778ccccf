package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// Go's standard library reads unencrypted PKCS#8 keys only; an encrypted
// one ("BEGIN ENCRYPTED PRIVATE KEY", what OpenSSL 3 writes for
// "openssl genpkey -aes256" or "openssl pkcs8 -topk8") is decrypted here:
// PBES2 with PBKDF2 (RFC 8018) and AES-CBC or 3DES-CBC, OpenSSL's choices
// since 1.1. The older PKCS#12 schemes (openssl pkcs8 -v1) and scrypt are
// refused with an error that says so.

// Object identifiers, as asn1.ObjectIdentifier.String spells them.
const (
	oidPBES2      = "1.2.840.113549.1.5.13"
	oidPBKDF2     = "1.2.840.113549.1.5.12"
	oidHMACSHA1   = "1.2.840.113549.2.7"
	oidHMACSHA224 = "1.2.840.113549.2.8"
	oidHMACSHA256 = "1.2.840.113549.2.9"
	oidHMACSHA384 = "1.2.840.113549.2.10"
	oidHMACSHA512 = "1.2.840.113549.2.11"
	oidAES128CBC  = "2.16.840.1.101.3.4.1.2"
	oidAES192CBC  = "2.16.840.1.101.3.4.1.22"
	oidAES256CBC  = "2.16.840.1.101.3.4.1.42"
	oidDESEDE3CBC = "1.2.840.113549.3.7"
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF pkix.AlgorithmIdentifier
	Enc pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

func errWrongPass() error { return errors.New("cannot decrypt the key: wrong tls-key-file-pass?") }

// decryptPKCS8 returns the PKCS#8 DER of an EncryptedPrivateKeyInfo.
func decryptPKCS8(der []byte, pass string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed encrypted private key")
	}
	if info.Algo.Algorithm.String() != oidPBES2 {
		return nil, fmt.Errorf("key encryption %v is not supported (PBES2 is: openssl pkcs8 -topk8 -v2 aes-256-cbc)", info.Algo.Algorithm)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if p.KDF.Algorithm.String() != oidPBKDF2 {
		return nil, fmt.Errorf("key derivation %v is not supported (PBKDF2 is)", p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	prf, err := pbkdf2PRF(kp.PRF.Algorithm)
	if err != nil {
		return nil, err
	}
	newBlock, keyLen, err := pbes2Cipher(p.Enc.Algorithm)
	if err != nil {
		return nil, err
	}
	if kp.KeyLength != 0 && kp.KeyLength != keyLen {
		return nil, errors.New("malformed PBKDF2 parameters: key length does not fit the cipher")
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Enc.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("malformed cipher parameters")
	}
	key, err := pbkdf2.Key(prf, pass, kp.Salt, kp.Iter, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("malformed encrypted private key")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	// A wrong password shows as bad padding or, rarely, as a key that
	// does not parse.
	n := int(out[len(out)-1])
	if n == 0 || n > bs || n > len(out) {
		return nil, errWrongPass()
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPass()
		}
	}
	out = out[:len(out)-n]
	if _, err := x509.ParsePKCS8PrivateKey(out); err != nil {
		return nil, errWrongPass()
	}
	return out, nil
}

func pbkdf2PRF(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch oid.String() {
	case "", oidHMACSHA1: // absent: the default, SHA-1
		return sha1.New, nil
	case oidHMACSHA224:
		return sha256.New224, nil
	case oidHMACSHA256:
		return sha256.New, nil
	case oidHMACSHA384:
		return sha512.New384, nil
	case oidHMACSHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("PBKDF2 pseudo-random function %v is not supported", oid)
}

func pbes2Cipher(oid asn1.ObjectIdentifier) (func([]byte) (cipher.Block, error), int, error) {
	switch oid.String() {
	case oidAES128CBC:
		return aes.NewCipher, 16, nil
	case oidAES192CBC:
		return aes.NewCipher, 24, nil
	case oidAES256CBC:
		return aes.NewCipher, 32, nil
	case oidDESEDE3CBC:
		return des.NewTripleDESCipher, 24, nil
	}
	return nil, 0, fmt.Errorf("key cipher %v is not supported (AES-CBC and 3DES-CBC are)", oid)
}
