package export

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/gopherlab/gopherlab/export/jobrt"
)

// TestK8sNamesValid exports the manifests for notebook names as they come
// (a leading digit, underscores, spaces, dots, non-ASCII letters, 100
// characters) and validates every name and label as the API server would:
// the Service's name is a DNS-1035 label, the Deployment's and the HPA's
// DNS-1123 labels (so their pods' names and hostnames are valid too),
// label keys qualified names and values at most 63 characters.
func TestK8sNamesValid(t *testing.T) {
	long := strings.Repeat("a", 100)
	names := []string{
		"iris", "02-breast-cancer", "My_Churn Model.v2", "churn__model", "Δ-model", "模型",
		"-_-", "123", "a.b.c", "UPPER case", long, long + "b", strings.Repeat("x-", 40),
		strings.Repeat("é", 30) + "model", "model-" + strings.Repeat("9", 57),
	}
	seen := map[string]string{}
	for _, nbName := range names {
		model := sanitizeName(nbName)
		files, err := k8sManifests(model)
		if err != nil {
			t.Fatalf("%q: %v", nbName, err)
		}
		var dep appsv1.Deployment
		var svc corev1.Service
		var hpa autoscalingv2.HorizontalPodAutoscaler
		for file, obj := range map[string]any{"deployment.yaml": &dep, "service.yaml": &svc, "hpa.yaml": &hpa} {
			if err := yaml.UnmarshalStrict(files[file], obj); err != nil {
				t.Fatalf("%q: %s: %v", nbName, file, err)
			}
		}
		check := func(what string, errs []string) {
			t.Helper()
			if len(errs) > 0 {
				t.Errorf("notebook %q: %s: %s", nbName, what, strings.Join(errs, "; "))
			}
		}
		labels := func(what string, l map[string]string) {
			t.Helper()
			for k, v := range l {
				check(what+" label key "+k, validation.IsQualifiedName(k))
				check(what+" label "+k+"="+v, validation.IsValidLabelValue(v))
			}
		}
		check("service name "+svc.Name, validation.IsDNS1035Label(svc.Name))
		check("deployment name "+dep.Name, validation.IsDNS1123Label(dep.Name))
		check("deployment name "+dep.Name, validation.IsDNS1123Subdomain(dep.Name))
		check("hpa name "+hpa.Name, validation.IsDNS1123Label(hpa.Name))
		check("hpa target "+hpa.Spec.ScaleTargetRef.Name, validation.IsDNS1123Label(hpa.Spec.ScaleTargetRef.Name))
		for _, m := range []metav1.ObjectMeta{dep.ObjectMeta, svc.ObjectMeta, hpa.ObjectMeta, dep.Spec.Template.ObjectMeta} {
			labels(m.Name, m.Labels)
		}
		labels("selector", dep.Spec.Selector.MatchLabels)
		labels("service selector", svc.Spec.Selector)
		for _, c := range dep.Spec.Template.Spec.Containers {
			check("container name "+c.Name, validation.IsDNS1123Label(c.Name))
			for _, p := range c.Ports {
				check("port name "+p.Name, validation.IsValidPortName(p.Name))
			}
		}
		if hpa.Spec.ScaleTargetRef.Name != dep.Name || svc.Name != dep.Name {
			t.Errorf("notebook %q: deployment %q, service %q, hpa target %q: want one name", nbName, dep.Name, svc.Name, hpa.Spec.ScaleTargetRef.Name)
		}
		// Deterministic, and distinct names stay distinct.
		if again, _ := k8sManifests(model); string(again["deployment.yaml"]) != string(files["deployment.yaml"]) {
			t.Errorf("notebook %q: the manifests differ from one export to the next", nbName)
		}
		if other, ok := seen[dep.Name]; ok && sanitizeName(other) != model {
			t.Errorf("notebooks %q and %q both give %q", other, nbName, dep.Name)
		}
		seen[dep.Name] = nbName
	}
	if got := k8sName(sanitizeName("02-breast-cancer"), "-serve"); got != "model-02-breast-cancer-serve" {
		t.Errorf("02-breast-cancer: %q", got)
	}
	if got := k8sName(sanitizeName("My_Churn Model.v2"), "-serve"); got != "my-churn-model-v2-serve" {
		t.Errorf("My_Churn Model.v2: %q", got)
	}
}

// TestServeDeploymentRuntime: the Deployment gives the server its memory
// limit (for the Go runtime's soft limit), never runs a stale :latest,
// and leaves the entrypoint's flags to the image; the Dockerfile names
// its base images in full, as daemonless builders need.
func TestServeDeploymentRuntime(t *testing.T) {
	files, err := k8sManifests("iris")
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	if err := yaml.UnmarshalStrict(files["deployment.yaml"], &dep); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]*corev1.EnvVarSource{}
	for _, e := range c.Env {
		env[e.Name] = e.ValueFrom
	}
	ref := env["GOPHERLAB_MEMORY_LIMIT"]
	if ref == nil || ref.ResourceFieldRef == nil || ref.ResourceFieldRef.Resource != "limits.memory" || ref.ResourceFieldRef.ContainerName != c.Name {
		t.Errorf("env %v: want GOPHERLAB_MEMORY_LIMIT from the container's limits.memory", c.Env)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Error("no memory limit")
	}
	if strings.HasSuffix(c.Image, ":latest") && c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("image %s with pull policy %s: a node keeps a stale :latest", c.Image, c.ImagePullPolicy)
	}
	for _, a := range c.Args {
		if a == "-model-dir" || a == "-addr" || strings.HasPrefix(a, "-model-dir=") || strings.HasPrefix(a, "-addr=") {
			t.Errorf("args %q repeat the entrypoint's %s", c.Args, a)
		}
	}
	df, err := render(dockerfile, map[string]any{"Name": "iris", "M": &jobrt.Manifest{GoDirective: "1.26.8"}, "Port": servePort, "Image": "iris-serve"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(df), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "FROM" {
			if host, _, ok := strings.Cut(f[1], "/"); !ok || !strings.Contains(host, ".") {
				t.Errorf("%s: not a fully qualified image name", line)
			}
		}
	}
}

// TestReadmesSayWhatBuildsNeed: the READMEs say what the builds need (a C
// compiler for a job that logs to SQLite, none for the server), where the
// job logs its runs, how it fails, and what -model-dir is relative to.
func TestReadmesSayWhatBuildsNeed(t *testing.T) {
	m := &jobrt.Manifest{Name: "iris", GoDirective: "1.26.8", WorkDir: "/nb",
		TrackedRun: &jobrt.TrackedRun{ID: "0123456789abcdef"}}
	job, err := render(jobReadme, map[string]any{"M": m, "Name": "iris", "Cgo": true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"C compiler", "go-sqlite3", "CGO_ENABLED=0", "$GOPHERLAB_DB, else gopherlab.db in -dir",
		"status 1", "do not\n  reproduce", "-model-dir is not", "relative to the current directory"} {
		if !strings.Contains(string(job), want) {
			t.Errorf("job README lacks %q:\n%s", want, job)
		}
	}
	job, _ = render(jobReadme, map[string]any{"M": &jobrt.Manifest{Name: "iris"}, "Name": "iris", "Cgo": false})
	if strings.Contains(string(job), "C compiler") || strings.Contains(string(job), "GOPHERLAB_DB") || !strings.Contains(string(job), "builds with CGO_ENABLED=0") {
		t.Errorf("job README without tracking:\n%s", job)
	}
	serve, err := render(serveReadme, map[string]any{"Name": "iris", "M": m, "Port": servePort, "Image": "iris-serve",
		"Drain": serveDrain, "ShutdownTimeout": serveShutdown, "Grace": serveGrace})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "no C compiler", "-model-dir is relative to the current directory",
		"imagePullPolicy: Always", "GOPHERLAB_MEMORY_LIMIT", "422", "docker.io/library/golang"} {
		if !strings.Contains(string(serve), want) {
			t.Errorf("serving README lacks %q", want)
		}
	}
}
