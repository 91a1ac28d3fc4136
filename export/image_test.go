package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
)

// buildah runs buildah on a storage of its own under root, so the test
// neither needs nor touches the machine's images. Chroot isolation and
// the vfs driver need no daemon, no user namespaces and no overlay
// support: buildah runs the Dockerfile's steps as docker build would.
type buildah struct {
	t    *testing.T
	root string
}

func (b buildah) args(args ...string) []string {
	return append([]string{"--root", filepath.Join(b.root, "storage"), "--runroot", filepath.Join(b.root, "run"), "--storage-driver", "vfs"}, args...)
}

// command is buildah with args, on this storage.
func (b buildah) command(args ...string) *exec.Cmd {
	cmd := exec.Command("buildah", b.args(args...)...)
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
	return cmd
}

func (b buildah) run(args ...string) string {
	b.t.Helper()
	cmd := b.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("buildah %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// image commits a container from scratch, filled by fill in its root
// directory and configured by config (buildah config flags), as name.
func (b buildah) image(name string, fill func(root string), config ...string) {
	b.t.Helper()
	c := b.run("from", "scratch")
	root := b.run("mount", c)
	// As an image's root is: readable and searchable by its users.
	if err := os.Chmod(root, 0o755); err != nil {
		b.t.Fatal(err)
	}
	fill(root)
	if len(config) > 0 {
		b.run(append(append([]string{"config"}, config...), c)...)
	}
	b.run("commit", "-q", c, name)
	b.run("rm", c)
}

// copyInto copies host files into a container root, each to the same
// path.
func copyInto(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		dst := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", "-L", p, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v\n%s", p, err, out)
		}
	}
}

// TestServingImage builds the serving bundle's Dockerfile into an image
// and runs it: the build stage compiles the server, the final image holds
// it and the model, runs it as the non-root user on the port it exposes
// (the Kubernetes Deployment's port and user), the server answers the
// Deployment's probes and as the notebook predicts, and stops gracefully
// on SIGTERM.
//
// The registries the Dockerfile's base images come from are out of this
// machine's reach, so the test builds stand-ins for them from the
// machine's own files, under the full names the Dockerfile gives them,
// with what it relies on: docker.io/library/golang:V has
// the Go toolchain of this machine (the version go.mod names) in
// /usr/local/go with a shell, GOPATH /go and the module proxy the host
// uses; distroless/static-debian12:nonroot has only /etc/passwd and
// /etc/group with the nonroot user (65532), CA certificates and /tmp.
func TestServingImage(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah is not installed (make deps installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("buildah with chroot isolation needs root")
	}
	tmp := t.TempDir()
	nb := exporttest.CopyIrisNotebook(t, tmp)
	res, err := Export(nb, ExportOptions{Out: filepath.Join(tmp, "out")})
	if err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(res.JobDir, "job")
	exporttest.GoBuild(t, res.JobDir, job, ".")
	jobOut, stderr, err := exporttest.RunIn(t, res.JobDir, job, "-q")
	if err != nil {
		t.Fatalf("job: %v\n%s", err, stderr)
	}

	b := buildah{t: t, root: filepath.Join(tmp, "buildah")}
	t.Cleanup(func() {
		// Containers' files belong to root and 65532: only buildah's own
		// cleanup (or root) removes them; the temporary directory goes
		// after.
		b.command("rm", "--all").Run()
		b.command("rmi", "--all", "--force").Run()
	})
	goroot := strings.TrimSpace(string(mustOutput(t, "go", "env", "GOROOT")))
	goEnv := mustOutput(t, "go", "env", "GOPROXY", "GOSUMDB")
	proxy := strings.Fields(string(goEnv))
	golang := "docker.io/library/golang:" + res.Manifest.GoDirective
	b.image(golang, func(root string) {
		copyInto(t, root, "/bin/sh", "/etc/ssl/certs/ca-certificates.crt")
		copyInto(t, root, sharedLibs(t, "/bin/sh")...)
		os.MkdirAll(filepath.Join(root, "usr/local"), 0o755)
		if out, err := exec.Command("cp", "-a", goroot, filepath.Join(root, "usr/local/go")).CombinedOutput(); err != nil {
			t.Fatalf("cp GOROOT: %v\n%s", err, out)
		}
		os.MkdirAll(filepath.Join(root, "go"), 0o755)
		os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
		os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	}, "--env", "PATH=/usr/local/go/bin:/go/bin:/usr/bin:/bin", "--env", "GOPATH=/go",
		"--env", "GOPROXY="+proxy[0], "--env", "GOSUMDB="+proxy[1], "--workingdir", "/go")
	b.image("gcr.io/distroless/static-debian12:nonroot", func(root string) {
		copyInto(t, root, "/etc/ssl/certs/ca-certificates.crt") // makes /etc
		os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"), 0o644)
		os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"), 0o644)
		os.MkdirAll(filepath.Join(root, "home"), 0o755)
		os.Mkdir(filepath.Join(root, "home/nonroot"), 0o700)
		os.Chown(filepath.Join(root, "home/nonroot"), 65532, 65532)
		os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
		os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	}, "--user", "65532", "--workingdir", "/home/nonroot")

	// The image, as the bundle's README says to build it.
	b.run("bud", "--pull-never", "--layers=false", "-t", "iris-serving", res.ServeDir)
	var cfg struct {
		OCIv1 struct {
			Config struct {
				User         string
				Entrypoint   []string
				ExposedPorts map[string]struct{}
			}
		}
	}
	if err := json.Unmarshal([]byte(b.run("inspect", "--type", "image", "iris-serving")), &cfg); err != nil {
		t.Fatal(err)
	}
	conf := cfg.OCIv1.Config
	if conf.User != "65532:65532" {
		t.Errorf("image user %q, want the non-root 65532:65532", conf.User)
	}
	addrAt := slices.Index(conf.Entrypoint, "-addr") + 1
	if len(conf.Entrypoint) == 0 || conf.Entrypoint[0] != "/server" || addrAt == 0 || addrAt >= len(conf.Entrypoint) {
		t.Fatalf("entrypoint %q", conf.Entrypoint)
	}
	port := strings.TrimPrefix(conf.Entrypoint[addrAt], ":")
	if _, ok := conf.ExposedPorts[port+"/tcp"]; !ok {
		t.Errorf("entrypoint listens on %s, the image exposes %v", conf.Entrypoint[addrAt], conf.ExposedPorts)
	}
	// The Deployment runs this image as it is built: on its port, as its
	// user, probed on paths the server answers (checked below).
	var dep appsv1.Deployment
	if b, err := os.ReadFile(filepath.Join(res.ServeDir, "k8s", "deployment.yaml")); err != nil {
		t.Fatal(err)
	} else if err := yaml.UnmarshalStrict(b, &dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	ctr := pod.Containers[0]
	if got := strconv.Itoa(int(ctr.Ports[0].ContainerPort)); got != port {
		t.Errorf("the Deployment's container port is %s, the server listens on %s", got, port)
	}
	if uid := strconv.FormatInt(*pod.SecurityContext.RunAsUser, 10); !strings.HasPrefix(conf.User, uid+":") {
		t.Errorf("the Deployment runs as uid %s, the image as %s", uid, conf.User)
	}
	// The final image is the server, its model and the base's few files:
	// no toolchain, no sources.
	c := b.run("from", "--pull-never", "iris-serving")
	root := b.run("mount", c)
	for _, p := range []string{"server", "model/model.gob", "model/model.json"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("image: %v", err)
		}
	}
	for _, p := range []string{"usr/local/go", "src", "bin/sh", "main.go"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("image has /%s", p)
		}
	}

	// Run the entrypoint as the Deployment does (its args after the
	// image's entrypoint), on a free loopback port (the container shares
	// the host's network).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	argv := append(slices.Clone(conf.Entrypoint), ctr.Args...)
	for i := 1; i < len(argv); i++ {
		if argv[i-1] == "-addr" {
			argv[i] = addr
		}
	}
	run := b.command(append([]string{"run", c, "--"}, argv...)...)
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	defer run.Process.Kill()
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/v2/health/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the container exited: %v\n%s", err, runOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server in the container is not ready\n%s", runOut.String())
		}
	}
	for _, probe := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe} {
		resp, err := http.Get(base + probe.HTTPGet.Path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("probe GET %s: %s", probe.HTTPGet.Path, resp.Status)
		}
	}
	server := serverProcess(t, argv)
	if uid := procUID(t, server); uid != "65532" {
		t.Errorf("the server runs as uid %s, want 65532", uid)
	}

	// Predictions are the notebook's (the job printed them for a sample).
	cols := fields(lineAfter(t, jobOut, "sample columns: "))
	feats := floats(t, lineAfter(t, jobOut, "sample features: "))
	labels := fields(lineAfter(t, jobOut, "sample predictions: "))
	for i, want := range labels {
		code, v := postJSON(t, base+"/predict", "{"+strings.Join(rowJSON(cols, feats, i), ", ")+"}")
		preds, _ := v["predictions"].([]any)
		if code != http.StatusOK || len(preds) != 1 {
			t.Fatalf("POST /predict: %d %v", code, v)
		}
		if got := preds[0].(map[string]any)["label"]; got != want {
			t.Errorf("row %d: the container predicts %v, the notebook %s", i, got, want)
		}
	}

	// SIGTERM: the server drains (not ready, still predicting), then
	// finishes and exits cleanly, within the pod's grace period.
	if err := syscall.Kill(server, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + ctr.ReadinessProbe.HTTPGet.Path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness after SIGTERM: %v %v, want 503 during the drain (args %q)", resp, err, ctr.Args)
		}
	}
	if code, v := postJSON(t, base+"/predict", "{"+strings.Join(rowJSON(cols, feats, 0), ", ")+"}"); code != http.StatusOK {
		t.Errorf("POST /predict during the drain: %d %v", code, v)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, runOut.String())
		}
	case <-time.After(time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second):
		t.Fatalf("the server did not stop on SIGTERM within the grace period\n%s", runOut.String())
	}
}

// rowJSON is row i of the job's sample as "feature": value pairs.
func rowJSON(cols []string, feats []float64, i int) []string {
	var row []string
	for j, c := range cols {
		row = append(row, fmt.Sprintf("%q: %s", c, strconv.FormatFloat(feats[i*len(cols)+j], 'g', -1, 64)))
	}
	return row
}

func mustOutput(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// sharedLibs lists the shared libraries prog loads, the loader included
// (ldd's paths).
func sharedLibs(t *testing.T, prog string) []string {
	t.Helper()
	var libs []string
	for _, f := range strings.Fields(string(mustOutput(t, "ldd", prog))) {
		if strings.HasPrefix(f, "/") {
			libs = append(libs, f)
		}
	}
	return libs
}

// serverProcess finds the process running argv exactly.
func serverProcess(t *testing.T, argv []string) int {
	t.Helper()
	want := strings.Join(argv, "\x00") + "\x00"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && string(b) == want {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no process runs %q", argv)
	return 0
}

// procUID is the real user id process pid runs as.
func procUID(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := fields(lineAfter(t, string(b), "Uid:"))
	if len(uid) == 0 {
		t.Fatalf("no Uid in /proc/%d/status", pid)
	}
	return uid[0]
}
