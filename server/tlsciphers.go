package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Redis hands tls-protocols, tls-ciphers and tls-ciphersuites to OpenSSL;
// Go's TLS takes a version range and a list of TLS 1.2 suite ids. This
// file reads Redis's strings and maps what Go can honour (docs/tls.md).

// parseProtocols reads tls-protocols as Redis does (names split on single
// spaces, any case; empty: TLS 1.2 and 1.3) and returns the range from
// the lowest named version to the highest: Go cannot leave a gap, so
// "TLSv1 TLSv1.3" also allows 1.1 and 1.2.
func parseProtocols(v string) (lo, hi uint16, err error) {
	if v == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, tok := range strings.Split(v, " ") {
		var ver uint16
		switch strings.ToLower(tok) {
		case "tlsv1":
			ver = tls.VersionTLS10
		case "tlsv1.1":
			ver = tls.VersionTLS11
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, errors.New("tls-protocols: invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'")
		}
		if lo == 0 || ver < lo {
			lo = ver
		}
		hi = max(hi, ver)
	}
	return lo, hi, nil
}

// parseCiphers reads an OpenSSL cipher list (tls-ciphers: names separated
// by ':', ',', ';' or spaces) into Go suite ids, nil meaning Go's
// defaults:
//   - a suite named by its OpenSSL name is used if Go implements it; one
//     Go lacks (DHE-..., CAMELLIA, ARIA, PSK, ...) is skipped, as OpenSSL
//     skips names it does not know;
//   - "!name" and "-name" drop a named suite; "+...", "@STRENGTH" and
//     "@SECLEVEL=n" are accepted and change nothing;
//   - a group name (HIGH, DEFAULT, ECDHE+AESGCM, ...) is not evaluated: it
//     stands for Go's own secure suites, so "HIGH:!aNULL" is Go's
//     defaults;
//   - a list that selects nothing is refused, as OpenSSL refuses it.
func parseCiphers(v string) ([]uint16, error) {
	if v == "" {
		return nil, nil
	}
	var named, dropped []uint16
	group := false
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ';' || r == ' ' }) {
		switch tok[0] {
		case '@', '+':
			continue
		case '!', '-':
			if id, ok := opensslCipher(tok[1:]); ok {
				dropped = append(dropped, id)
			}
			continue
		}
		if id, ok := opensslCipher(tok); ok {
			if !slices.Contains(named, id) {
				named = append(named, id)
			}
		} else if isCipherGroup(tok) {
			group = true
		}
	}
	if group {
		if len(named) == 0 && len(dropped) == 0 {
			return nil, nil
		}
		for _, cs := range tls.CipherSuites() {
			if strings.HasPrefix(cs.Name, "TLS_ECDHE_") && !slices.Contains(named, cs.ID) {
				named = append(named, cs.ID)
			}
		}
	}
	named = slices.DeleteFunc(named, func(id uint16) bool { return slices.Contains(dropped, id) })
	if len(named) == 0 {
		return nil, fmt.Errorf("tls-ciphers: failed to configure ciphers: %s: no cipher suite Go implements is selected", v)
	}
	return named, nil
}

// opensslCipher maps OpenSSL's name of a TLS 1.2-and-below suite to Go's
// id, for every such suite Go implements (some only on request, being
// weak: Go never offers them by default).
func opensslCipher(name string) (uint16, bool) {
	switch name {
	case "ECDHE-ECDSA-AES128-GCM-SHA256":
		return tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true
	case "ECDHE-RSA-AES128-GCM-SHA256":
		return tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, true
	case "ECDHE-ECDSA-AES256-GCM-SHA384":
		return tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true
	case "ECDHE-RSA-AES256-GCM-SHA384":
		return tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true
	case "ECDHE-ECDSA-CHACHA20-POLY1305":
		return tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true
	case "ECDHE-RSA-CHACHA20-POLY1305":
		return tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true
	case "ECDHE-ECDSA-AES128-SHA":
		return tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, true
	case "ECDHE-RSA-AES128-SHA":
		return tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, true
	case "ECDHE-ECDSA-AES256-SHA":
		return tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, true
	case "ECDHE-RSA-AES256-SHA":
		return tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, true
	case "ECDHE-ECDSA-AES128-SHA256":
		return tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, true
	case "ECDHE-RSA-AES128-SHA256":
		return tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, true
	case "AES128-GCM-SHA256":
		return tls.TLS_RSA_WITH_AES_128_GCM_SHA256, true
	case "AES256-GCM-SHA384":
		return tls.TLS_RSA_WITH_AES_256_GCM_SHA384, true
	case "AES128-SHA":
		return tls.TLS_RSA_WITH_AES_128_CBC_SHA, true
	case "AES256-SHA":
		return tls.TLS_RSA_WITH_AES_256_CBC_SHA, true
	case "AES128-SHA256":
		return tls.TLS_RSA_WITH_AES_128_CBC_SHA256, true
	case "ECDHE-RSA-DES-CBC3-SHA":
		return tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, true
	case "DES-CBC3-SHA":
		return tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, true
	case "ECDHE-ECDSA-RC4-SHA":
		return tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, true
	case "ECDHE-RSA-RC4-SHA":
		return tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, true
	case "RC4-SHA":
		return tls.TLS_RSA_WITH_RC4_128_SHA, true
	}
	return 0, false
}

// isCipherGroup reports whether tok is an OpenSSL cipher group name, or
// several joined by '+' (ECDHE+AESGCM).
func isCipherGroup(tok string) bool {
	for _, part := range strings.Split(tok, "+") {
		switch part {
		case "ALL", "DEFAULT", "COMPLEMENTOFDEFAULT", "COMPLEMENTOFALL", "HIGH", "MEDIUM", "LOW",
			"eNULL", "NULL", "aNULL", "kRSA", "aRSA", "RSA", "kDHE", "kEDH", "DH", "DHE", "EDH", "ADH",
			"kEECDH", "kECDHE", "ECDH", "ECDHE", "EECDH", "AECDH", "aECDSA", "ECDSA", "aDSS", "DSS",
			"TLSv1.2", "TLSv1.0", "TLSv1", "SSLv3", "AES", "AES128", "AES256", "AESGCM", "AESCCM",
			"AESCCM8", "CHACHA20", "3DES", "RC4", "SHA1", "SHA", "SHA256", "SHA384", "CBC",
			"SUITEB128", "SUITEB128ONLY", "SUITEB192":
		default:
			return false
		}
	}
	return true
}

// checkCiphersuites checks tls-ciphersuites as OpenSSL would (':'
// separated TLS 1.3 names; unknown ones skipped; one must be known) and
// applies nothing: Go does not let the TLS 1.3 suites be chosen.
func checkCiphersuites(v string) error {
	if v == "" {
		return nil
	}
	for _, tok := range strings.Split(v, ":") {
		switch tok {
		case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
			"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256":
			return nil
		}
	}
	return fmt.Errorf("tls-ciphersuites: failed to configure ciphersuites: %s", v)
}
