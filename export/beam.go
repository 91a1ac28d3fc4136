package export

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A job exported with --beam can run its model-selection fits as an Apache
// Beam pipeline (package export/beamjob, copied into the job). Only such
// jobs need the Beam SDK: gopherlab's own module does not require it, so
// beamjob.go carries a build constraint that keeps it out of gopherlab's
// builds, and the module versions Beam needs are pinned here: beam.mod is
// the require block of a job module with Beam, tidied, and beam.sum its
// go.sum. The job's go.mod requires, for each module, the higher of
// gopherlab's version and beam.mod's; its go.sum is both go.sum files.
//
// To move to another Beam release: export a notebook with --beam; in
// DIR/job run `go get github.com/apache/beam/sdks/v2@VERSION` and `go mod
// tidy`; copy its require lines into beamjob/beam.mod and its go.sum to
// beamjob/beam.sum; update beamFlags from the built job's -h.

//go:embed beamjob/beamjob.go
var beamjobSource []byte

//go:embed beamjob/beam.mod
var beamMod []byte

//go:embed beamjob/beam.sum
var beamSum []byte

// beamModule is the Beam Go SDK's module path.
const beamModule = "github.com/apache/beam/sdks/v2"

// beamjobPath is the package a Beam job's runtime is copied from.
const beamjobPath = ModulePath + "/export/beamjob"

// beamjobFile returns the Beam runtime's source for a job's module: its
// build constraint removed and its gopherlab imports rewritten.
func beamjobFile(module string) ([]byte, error) {
	src := beamjobSource
	first, rest, ok := bytes.Cut(src, []byte("\n"))
	if !ok || string(bytes.TrimSpace(first)) != "//go:build ignore" {
		return nil, fmt.Errorf("export: beamjob.go does not start with its build constraint (a bug)")
	}
	// The note on the build constraint goes too.
	i := bytes.Index(rest, []byte("\n// Package beamjob "))
	if i < 0 {
		return nil, fmt.Errorf("export: beamjob.go has no package comment (a bug)")
	}
	return rewriteImports(rest[i+1:], module), nil
}

// withBeam returns gopherlab's module requirements merged with Beam's:
// the higher version of each module.
func withBeam(gm *goMod) (*goMod, error) {
	bm, err := parseGoMod(append([]byte("go "+gm.Go+"\n"), beamMod...))
	if err != nil {
		return nil, fmt.Errorf("export: beam.mod: %w", err)
	}
	if bm.Requires[beamModule] == "" {
		return nil, fmt.Errorf("export: beam.mod does not require %s (a bug)", beamModule)
	}
	out := &goMod{Go: gm.Go, Requires: map[string]string{}, beam: true}
	for _, p := range gm.order {
		out.add(p, gm.Requires[p])
	}
	for _, p := range bm.order {
		if v, ok := out.Requires[p]; !ok || semverLess(v, bm.Requires[p]) {
			out.add(p, bm.Requires[p])
		}
	}
	return out, nil
}

// mergeSums returns the lines of both go.sum files, sorted, once each.
func mergeSums(a, b []byte) []byte {
	seen := map[string]bool{}
	var lines []string
	for _, f := range [][]byte{a, b} {
		sc := bufio.NewScanner(bytes.NewReader(f))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l != "" && !seen[l] {
				seen[l] = true
				lines = append(lines, l)
			}
		}
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// semverLess reports whether version a sorts before b (vMAJOR.MINOR.PATCH
// with an optional pre-release; build metadata and +incompatible are
// ignored).
func semverLess(a, b string) bool {
	pa, pb := parseSemver(a), parseSemver(b)
	for i := 0; i < 3; i++ {
		if pa.n[i] != pb.n[i] {
			return pa.n[i] < pb.n[i]
		}
	}
	switch {
	case pa.pre == pb.pre:
		return false
	case pa.pre == "":
		return false // a release sorts after its pre-releases
	case pb.pre == "":
		return true
	}
	return prereleaseLess(pa.pre, pb.pre)
}

type semver struct {
	n   [3]int64
	pre string
}

func parseSemver(v string) semver {
	var s semver
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	core, pre, _ := strings.Cut(v, "-")
	s.pre = pre
	for i, f := range strings.SplitN(core, ".", 3) {
		s.n[i], _ = strconv.ParseInt(f, 10, 64)
	}
	return s
}

// prereleaseLess compares dot-separated pre-release identifiers: numeric
// ones numerically and before alphanumeric ones.
func prereleaseLess(a, b string) bool {
	fa, fb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(fa) && i < len(fb); i++ {
		if fa[i] == fb[i] {
			continue
		}
		na, errA := strconv.ParseInt(fa[i], 10, 64)
		nb, errB := strconv.ParseInt(fb[i], 10, 64)
		switch {
		case errA == nil && errB == nil:
			return na < nb
		case errA == nil:
			return true
		case errB == nil:
			return false
		}
		return fa[i] < fb[i]
	}
	return len(fa) < len(fb)
}

// beamFlags are the flags a Beam job has beside the job's own (-dir,
// -workers, ...): beamjob's and those the Beam packages it imports
// register (what the job's -h lists). A parameter may not take one of
// these names. The Beam integration test checks the list against a job's
// -h.
var beamFlags = strings.Fields(`async autoscaling_algorithm beam_log_level beam_strict beam_temp
	control_endpoint cpu_profiling dataflow_endpoint dataflow_kms_key dataflow_service_options
	disk_provisioned_iops disk_provisioned_throughput_mibps disk_size_gb disk_type dry_run
	element_processing_timeout endpoint environment_config environment_type execute_async
	experiments flexrs_goal id job_name labels logging_endpoint machine_type max_num_workers
	min_cpu_platform network no_use_public_ips num_workers number_of_worker_harness_threads
	options parallelism project region resource_hints retain_docker_containers runner
	sdk_container_image sdk_harness_container_image_override semi_persist_dir
	service_account_email staging_location subnetwork teardown_policy temp_location
	template_location transform_name_mapping update use_public_ips worker worker_binary
	worker_harness_container_image worker_machine_type worker_region worker_zone zone`)

// BeamFlags returns the flags a job exported with --beam has beside the
// job's own and its parameters.
func BeamFlags() []string { return append([]string(nil), beamFlags...) }

// checkBeamParams refuses parameters named like a flag of Beam jobs.
func checkBeamParams(sel *Selection) error {
	for _, p := range sel.Params {
		for _, f := range beamFlags {
			if p.Name == f {
				return &CellError{Cell: sel.ParamsCell, Line: p.Line, Tag: TagParameters,
					Msg: fmt.Sprintf("parameter %s has the name of a flag of Beam jobs (-%s): rename it to export with --beam", p.Name, f)}
			}
		}
	}
	return nil
}

// beamGo is the job's beam.go: it sets the Beam runtime as the job's
// Distributor (main.go declares gopherlabDistributed).
const beamGo = `// Code generated by gopherlab export --beam; DO NOT EDIT.

package main

import gopherlabbeam %q

// The cells' cross-validation and grid-search fits run as an Apache Beam
// pipeline when -runner is set (see README.md).
func init() { gopherlabDistributed = &gopherlabbeam.Runner{} }
`
