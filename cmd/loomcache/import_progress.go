package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows how far an import has read its file: a bar redrawn in
// place on a terminal, a line every few seconds otherwise. It is driven
// by the importer's loop (no goroutine of its own).
type progress struct {
	w     io.Writer
	bar   bool
	off   bool
	total int64
	start time.Time
	last  time.Time
	every time.Duration
}

func newProgress(w io.Writer, mode string, total int64) *progress {
	p := &progress{w: w, total: max(total, 1), start: time.Now()}
	switch mode {
	case "off":
		p.off = true
	case "bar":
		p.bar = true
	case "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				p.bar = true
			}
		}
	}
	p.every = 5 * time.Second
	if p.bar {
		p.every = 200 * time.Millisecond
	}
	p.last = p.start
	return p
}

// update reports pos bytes read; it draws at most every p.every.
func (p *progress) update(pos int64, sum *importSummary) {
	if p.off {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.draw(pos, sum.keys, now)
	}
}

func (p *progress) draw(pos, keys int64, now time.Time) {
	frac := float64(pos) / float64(p.total)
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(pos) / 1e6 / secs
	}
	if !p.bar {
		fmt.Fprintf(p.w, "import-rdb: %3.0f%% %d keys, %.1f of %.1f MB, %.1f MB/s\n",
			100*frac, keys, float64(pos)/1e6, float64(p.total)/1e6, rate)
		return
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d keys %.1f MB/s ", strings.Repeat("=", n), strings.Repeat(" ", width-n),
		100*frac, keys, rate)
}

// stop ends the bar's line.
func (p *progress) stop() {
	if p.bar && !p.off {
		fmt.Fprintln(p.w)
	}
}
