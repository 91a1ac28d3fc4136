package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/export/serving"
)

// servePort is the port the server listens on in its container.
const servePort = 8080

// In the cluster, a server told to stop (SIGTERM) keeps serving for
// serveDrain, not ready, closing each connection after its response, while
// the Service's endpoints and load balancers let go of the pod; then it
// gives the requests in flight serveShutdown to finish. The pod's grace
// period outlasts both, so the kubelet's SIGKILL never cuts them short.
const (
	serveDrain    = 5 * time.Second
	serveShutdown = 10 * time.Second
	serveGrace    = serveDrain + serveShutdown + 15*time.Second
)

// writeServe writes the serving bundle: a Go module whose main serves the
// model the job writes to dir/model, a Dockerfile, Kubernetes manifests
// and a README.
func writeServe(src fs.FS, dir, name string, gm *goMod, gosum []byte, m *jobrt.Manifest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	module := name + "/serve"
	if _, err := copyPackages(src, dir, module, []string{ModulePath + "/export/serving"}); err != nil {
		return err
	}
	k8s, err := k8sManifests(name)
	if err != nil {
		return err
	}
	data := map[string]any{"Name": name, "M": m, "Port": servePort, "Image": k8sName(name, "-serve"),
		"Drain": serveDrain, "ShutdownTimeout": serveShutdown, "Grace": serveGrace}
	files := map[string][]byte{
		"go.mod":        gm.file(module),
		"go.sum":        gosum,
		"model/.keep":   []byte("The training job writes model.gob and model.json here.\n"),
		".dockerignore": []byte("server\n*.test\n"),
	}
	for name, t := range map[string]*templateSpec{"main.go": {serveMain, true}, "Dockerfile": {dockerfile, false}, "README.md": {serveReadme, false}} {
		b, err := render(t.t, data)
		if err != nil {
			return err
		}
		if t.gofmt {
			if b, err = formatGo(b); err != nil {
				return err
			}
		}
		files[name] = b
	}
	for k, v := range k8s {
		files["k8s/"+k] = v
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	return os.Chmod(filepath.Join(dir, "model"), 0o755)
}

// k8sManifests returns a Deployment (readiness and liveness probes on the
// v2 health endpoints, a drain at shutdown, non-root, read-only root file
// system), a Service and a HorizontalPodAutoscaler for the server, as
// YAML built from the Kubernetes API types.
func k8sManifests(name string) (map[string][]byte, error) {
	app := k8sName(name, "-serve")
	labels := map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "gopherlab"}
	meta := func(kind, apiVersion string) (metav1.TypeMeta, metav1.ObjectMeta) {
		return metav1.TypeMeta{Kind: kind, APIVersion: apiVersion}, metav1.ObjectMeta{Name: app, Labels: labels}
	}
	replicas := int32(2)
	nonRoot, noEscalation, readOnly := true, false, true
	uid := int64(65532)
	grace := int64(serveGrace / time.Second)
	probe := func(path string, delay, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			InitialDelaySeconds: delay, PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	// The container's args follow the image's entrypoint (which sets
	// -model-dir and -addr): the drain is the cluster's.
	args := []string{"-drain=" + serveDrain.String(), "-shutdown-timeout=" + serveShutdown.String()}
	tm, om := meta("Deployment", "apps/v1")
	dep := &appsv1.Deployment{TypeMeta: tm, ObjectMeta: om, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas,
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
				"prometheus.io/scrape": "true", "prometheus.io/port": fmt.Sprint(servePort), "prometheus.io/path": "/metrics",
			}},
			Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: &grace,
				SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: &nonRoot, RunAsUser: &uid, RunAsGroup: &uid},
				Containers: []corev1.Container{{
					Name: "server",
					// A moving tag, pulled at every pod start, so that
					// a pod never runs an image older than the one
					// pushed last (IfNotPresent would keep a node's
					// stale :latest); see the README for pinning.
					Image:           app + ":latest",
					ImagePullPolicy: corev1.PullAlways,
					Args:            args,
					// The server gives the Go runtime 90% of the
					// memory limit as its soft limit (GOMEMLIMIT):
					// the GC keeps the heap under the limit.
					Env: []corev1.EnvVar{{Name: serving.MemoryLimitEnv, ValueFrom: &corev1.EnvVarSource{
						ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "server", Resource: "limits.memory"},
					}}},
					Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: servePort, Protocol: corev1.ProtocolTCP}},
					ReadinessProbe: probe("/v2/health/ready", 1, 5),
					LivenessProbe:  probe("/v2/health/live", 5, 10),
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
					SecurityContext: &corev1.SecurityContext{
						AllowPrivilegeEscalation: &noEscalation, ReadOnlyRootFilesystem: &readOnly, RunAsNonRoot: &nonRoot,
						Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					},
				}},
			},
		},
	}}
	tm, om = meta("Service", "v1")
	svc := &corev1.Service{TypeMeta: tm, ObjectMeta: om, Spec: corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: labels,
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
	}}
	minReplicas, cpu := int32(2), int32(70)
	tm, om = meta("HorizontalPodAutoscaler", "autoscaling/v2")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{TypeMeta: tm, ObjectMeta: om, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: app},
		MinReplicas:    &minReplicas,
		MaxReplicas:    10,
		Metrics: []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &cpu},
			},
		}},
	}}
	out := map[string][]byte{}
	for file, obj := range map[string]any{"deployment.yaml": dep, "service.yaml": svc, "hpa.yaml": hpa} {
		b, err := cleanYAML(obj)
		if err != nil {
			return nil, fmt.Errorf("export: kubernetes %s: %w", file, err)
		}
		out[file] = append([]byte("# Generated by gopherlab export from the Kubernetes API types.\n"), b...)
	}
	return out, nil
}

// k8sName derives from the model's name the name of the server's
// Kubernetes objects (Deployment, Service, HPA, their
// app.kubernetes.io/name label) and its image: name with suffix, made a
// DNS-1035 label, which is also a DNS-1123 label and subdomain and a
// label value. Lower case letters, digits and '-' only (any other
// character, '_' '.' ' ' or a non-ASCII letter, becomes '-', runs of them
// one), starting with a letter ("model-" is put before a name that starts
// with a digit) and at most 63 characters: a longer name is cut and ends
// with 8 hex digits of the SHA-256 of the whole name, so that two long
// names that differ only at the end stay apart. The result depends on
// name alone: exporting again gives the same objects.
func k8sName(name, suffix string) string {
	const maxLen = 63 // validation.DNS1035LabelMaxLength, LabelValueMaxLength
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	n := strings.Trim(b.String(), "-")
	switch {
	case n == "":
		n = "model"
	case n[0] < 'a':
		n = "model-" + n
	}
	if len(n)+len(suffix) > maxLen {
		sum := sha256.Sum256([]byte(name))
		h := hex.EncodeToString(sum[:4])
		n = strings.TrimRight(n[:maxLen-len(suffix)-len(h)-1], "-") + "-" + h
	}
	return n + suffix
}

// cleanYAML marshals a Kubernetes object without the empty status and
// null creation timestamps the API types carry.
func cleanYAML(obj any) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var clean func(v any)
	clean = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if e == nil || (k == "strategy" || k == "resources") && isEmptyMap(e) {
					delete(x, k)
					continue
				}
				clean(e)
			}
		case []any:
			for _, e := range x {
				clean(e)
			}
		}
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "status") // the cluster's to fill
	}
	clean(v)
	return yaml.Marshal(v)
}

func isEmptyMap(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}
