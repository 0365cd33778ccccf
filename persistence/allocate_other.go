//go:build !linux

package persistence

import (
	"errors"
	"os"
)

// allocate is not available here: the caller writes the bytes.
func allocate(*os.File, int64) error { return errors.ErrUnsupported }
