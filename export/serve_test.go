package export

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestK8sManifests reads the generated manifests back into the API types,
// strictly (an unknown field is an error), and checks what the cluster
// relies on.
func TestK8sManifests(t *testing.T) {
	files, err := k8sManifests("iris")
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	if err := yaml.UnmarshalStrict(files["deployment.yaml"], &dep); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if dep.Kind != "Deployment" || dep.APIVersion != "apps/v1" || dep.Name != "iris-serve" ||
		c.ReadinessProbe.HTTPGet.Path != "/v2/health/ready" || c.LivenessProbe.HTTPGet.Path != "/v2/health/live" ||
		c.ReadinessProbe.HTTPGet.Port.StrVal != "http" || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != servePort ||
		!*c.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem || *dep.Spec.Template.Spec.SecurityContext.RunAsUser == 0 {
		t.Errorf("deployment: %s", files["deployment.yaml"])
	}
	if dep.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != dep.Spec.Template.Labels["app.kubernetes.io/name"] {
		t.Error("the deployment's selector does not select its pods")
	}
	// At SIGTERM the server drains, then lets requests finish: the pod's
	// grace period outlasts both, with room to spare, before SIGKILL.
	flags := map[string]time.Duration{}
	for _, a := range c.Args {
		if name, v, ok := strings.Cut(a, "="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				flags[name] = d
			}
		}
	}
	drain, shutdown := flags["-drain"], flags["-shutdown-timeout"]
	grace := time.Duration(*dep.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if drain < time.Second || shutdown < time.Second || grace < drain+shutdown+10*time.Second {
		t.Errorf("drain %v, shutdown timeout %v, termination grace period %v: want a drain, and a grace period well over both (args %q)", drain, shutdown, grace, c.Args)
	}
	var svc corev1.Service
	if err := yaml.UnmarshalStrict(files["service.yaml"], &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Kind != "Service" || svc.Spec.Ports[0].TargetPort.StrVal != "http" || svc.Spec.Selector["app.kubernetes.io/name"] != "iris-serve" {
		t.Errorf("service: %s", files["service.yaml"])
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict(files["hpa.yaml"], &hpa); err != nil {
		t.Fatal(err)
	}
	if hpa.Kind != "HorizontalPodAutoscaler" || hpa.Spec.ScaleTargetRef.Name != "iris-serve" || hpa.Spec.ScaleTargetRef.Kind != "Deployment" ||
		*hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
		t.Errorf("hpa: %s", files["hpa.yaml"])
	}
	for name, b := range files {
		var v map[string]any
		yaml.Unmarshal(b, &v)
		if _, ok := v["status"]; ok {
			t.Errorf("%s has a status", name)
		}
	}
}
