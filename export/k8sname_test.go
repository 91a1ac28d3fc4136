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
