package main

import (
	"embed"

	"github.com/gopherlab/gopherlab/export"
)

// sources is the part of gopherlab's own tree that an exported training
// job and serving bundle are built from, so `gopherlab export` works
// without a checkout. The patterns match export.SourcePatterns (a test in
// export checks they cover everything it copies).
//
//go:embed go.mod go.sum display/*.go experiments/*.go experiments/*.s tracking/*.go export/jobrt/*.go export/jobrt/trackcheck/*.go export/serving/*.go internal/atomicfile/*.go internal/fieldname/*.go internal/interrupt/*.go internal/plotstyle/*.go
var sources embed.FS

func init() { export.Sources = sources }
