package k8s

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization these manifests
// use; decoding is strict, so a field outside it is an error here.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	} `json:"labels,omitempty"`
	Resources []string `json:"resources,omitempty"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
	Patches []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
}

// newObject is the API type of each kind the manifests hold.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, nil
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, nil
	}
	return nil, fmt.Errorf("unexpected %s %s", apiVersion, kind)
}

// decodeAll strictly decodes every YAML file under dir, keyed by its path.
func decodeAll(t *testing.T, dir string) map[string]any {
	t.Helper()
	out := map[string]any{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("\n---")) {
			return fmt.Errorf("%s: one object per file", p)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(b, &tm); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		if err := yaml.UnmarshalStrict(b, obj); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		out[p] = obj
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every manifest decodes strictly into its API type, and every file a
// kustomization names exists (and is itself a kustomization for a folder).
func TestManifestsDecodeStrictly(t *testing.T) {
	objs := decodeAll(t, ".")
	if len(objs) < 10 {
		t.Fatalf("only %d manifests found", len(objs))
	}
	for p, o := range objs {
		k, ok := o.(*kustomization)
		if !ok {
			continue
		}
		dir := filepath.Dir(p)
		for _, r := range k.Resources {
			fi, err := os.Stat(filepath.Join(dir, r))
			if err != nil {
				t.Errorf("%s: resource %s: %v", p, r, err)
				continue
			}
			if fi.IsDir() {
				if _, err := os.Stat(filepath.Join(dir, r, "kustomization.yaml")); err != nil {
					t.Errorf("%s: %s is not a kustomization", p, r)
				}
			}
		}
		for _, pt := range k.Patches {
			if _, ok := objs[filepath.Join(dir, pt.Path)]; !ok {
				t.Errorf("%s: patch %s is not a decoded manifest", p, pt.Path)
			}
		}
	}
}

func only[T any](t *testing.T, objs map[string]any, path string) T {
	t.Helper()
	o, ok := objs[path].(T)
	if !ok {
		t.Fatalf("%s: not found or of another kind", path)
	}
	return o
}

// configVars are the variables the gateway reads (app/config's env tags).
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../app/config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{"GOMEMLIMIT": true}
	for _, m := range regexp.MustCompile(`env:"([A-Z0-9_]+)"`).FindAllSubmatch(b, -1) {
		vars[string(m[1])] = true
	}
	return vars
}

// The base deploys the gateway as it is built to run: probes on its
// routes, a drain that fits the grace period, the seed's budgets with the
// memory budget tied to the container's limit, secrets from a Secret,
// DATA_DIR on a bounded emptyDir under a read-only root, and routing,
// disruption and scaling objects that select its pods.
func TestBaseFitsTheGateway(t *testing.T) {
	objs := decodeAll(t, "base")
	dep := only[*appsv1.Deployment](t, objs, "base/deployment.yaml")
	cm := only[*corev1.ConfigMap](t, objs, "base/configmap.yaml")
	svc := only[*corev1.Service](t, objs, "base/service.yaml")
	pdb := only[*policyv1.PodDisruptionBudget](t, objs, "base/pdb.yaml")
	hpa := only[*autoscalingv2.HorizontalPodAutoscaler](t, objs, "base/hpa.yaml")
	ing := only[*networkingv1.Ingress](t, objs, "base/ingress.yaml")

	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	vars := configVars(t)
	for k := range cm.Data {
		if !vars[k] {
			t.Errorf("ConfigMap sets %s, which the gateway does not read", k)
		}
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if !vars[e.Name] {
			t.Errorf("the container sets %s, which the gateway does not read", e.Name)
		}
		env[e.Name] = e
	}

	// Probes.
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/livez" {
		t.Error("liveness probe is not GET /livez")
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("readiness probe is not GET /readyz")
	}
	// preStop, then the drain, then fx's stop margin, all inside the grace period.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop pause before SIGTERM")
	}
	drain, err := time.ParseDuration(cm.Data["SHUTDOWN_DRAIN"])
	if err != nil {
		t.Fatalf("SHUTDOWN_DRAIN: %v", err)
	}
	need := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second + drain + 10*time.Second
	var grace time.Duration
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if grace < need {
		t.Errorf("terminationGracePeriodSeconds %v < preStop + SHUTDOWN_DRAIN + 10 s = %v", grace, need)
	}

	// The seed's budgets: ~10,000 connections, ~5,000 sessions, ~2 GB.
	if cm.Data["MAX_CONNECTIONS"] != "10000" || cm.Data["MAX_ACTIVE_SESSIONS"] != "5000" {
		t.Errorf("budgets %s / %s", cm.Data["MAX_CONNECTIONS"], cm.Data["MAX_ACTIVE_SESSIONS"])
	}
	limit := c.Resources.Limits[corev1.ResourceMemory]
	if limit.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("memory limit %s, want the seed's 2Gi", limit.String())
	}
	if req := c.Resources.Requests[corev1.ResourceMemory]; req.Cmp(limit) != 0 {
		t.Errorf("memory request %s differs from the limit %s: the budget must be guaranteed", req.String(), limit.String())
	}
	ml, ok := env["MEMORY_LIMIT"]
	if !ok || ml.ValueFrom == nil || ml.ValueFrom.ResourceFieldRef == nil || ml.ValueFrom.ResourceFieldRef.Resource != "limits.memory" ||
		ml.ValueFrom.ResourceFieldRef.ContainerName != c.Name {
		t.Error("MEMORY_LIMIT is not the container's memory limit")
	}
	if _, ok := env["GOMEMLIMIT"]; ok {
		t.Error("GOMEMLIMIT would override MEMORY_LIMIT's tie to the limit")
	}

	// Secrets from a Secret, never in the manifests.
	var secretRef bool
	for _, ef := range c.EnvFrom {
		secretRef = secretRef || ef.SecretRef != nil && ef.SecretRef.Name != ""
	}
	if !secretRef {
		t.Error("no envFrom secretRef")
	}
	for k := range cm.Data {
		if regexp.MustCompile(`API_KEY|SECRET`).MatchString(k) {
			t.Errorf("the ConfigMap holds %s; secrets belong in the Secret", k)
		}
	}

	// DATA_DIR on a bounded emptyDir, the only writable path.
	dd := env["DATA_DIR"].Value
	var mounted bool
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dd {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == vm.Name && v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil && !v.EmptyDir.SizeLimit.IsZero() {
				mounted = true
			}
		}
	}
	if dd == "" || !mounted {
		t.Errorf("DATA_DIR %q is not an emptyDir with a size limit", dd)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is writable")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("runAsNonRoot is not set")
	}

	// Selectors reach the pods.
	podLabels := dep.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !selects(dep.Spec.Selector.MatchLabels) || !selects(svc.Spec.Selector) || pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels) {
		t.Error("a selector misses the pods")
	}
	if ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != svc.Name {
		t.Error("the Ingress does not route to the Service")
	}

	// The HPA scales the Deployment on connections, a metric the gateway serves.
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != dep.Name {
		t.Errorf("HPA targets %+v", hpa.Spec.ScaleTargetRef)
	}
	var onConnections bool
	for _, m := range hpa.Spec.Metrics {
		onConnections = onConnections || m.Type == autoscalingv2.PodsMetricSourceType && m.Pods.Metric.Name == "diminuendo_ws_connections"
	}
	metricsSrc, err := os.ReadFile("../../adapters/telemetry/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	if !onConnections || !bytes.Contains(metricsSrc, []byte(`const ns = "diminuendo"`)) || !bytes.Contains(metricsSrc, []byte(`"ws_connections"`)) {
		t.Error("the HPA does not scale on diminuendo_ws_connections, or the gateway no longer serves it")
	}
}

// The Ingress hashes on the same tenant hint as deploy/nginx.conf: the
// tenant query parameter and the X-Tenant-Id header.
func TestIngressHashesLikeNginxConf(t *testing.T) {
	ing := only[*networkingv1.Ingress](t, decodeAll(t, "base"), "base/ingress.yaml")
	by := ing.Annotations["nginx.ingress.kubernetes.io/upstream-hash-by"]
	conf, err := os.ReadFile("../nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`hash \$tenant_hint consistent;`).Match(conf) {
		t.Fatal("deploy/nginx.conf no longer hashes on $tenant_hint")
	}
	for _, v := range []string{"$arg_tenant", "$http_x_tenant_id"} {
		if !bytes.Contains(conf, []byte(v)) || !strings.Contains(by, v) {
			t.Errorf("%s: in nginx.conf %v, in the Ingress's upstream-hash-by %q", v, bytes.Contains(conf, []byte(v)), by)
		}
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		t.Error("not an ingress-nginx Ingress")
	}
}

// Each overlay's patches name objects of the base, and its settings are
// the gateway's.
func TestOverlaysPatchTheBase(t *testing.T) {
	base := decodeAll(t, "base")
	names := map[string]bool{}
	for _, o := range base {
		if m, ok := o.(metav1.Object); ok {
			names[fmt.Sprintf("%T/%s", o, m.GetName())] = true
		}
	}
	vars := configVars(t)
	overlays := decodeAll(t, "overlays")
	for p, o := range overlays {
		if _, ok := o.(*kustomization); ok {
			continue
		}
		m := o.(metav1.Object)
		if !names[fmt.Sprintf("%T/%s", o, m.GetName())] {
			t.Errorf("%s patches %T %s, which the base does not have", p, o, m.GetName())
		}
		if d, ok := o.(*appsv1.Deployment); ok {
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					if !vars[e.Name] {
						t.Errorf("%s sets %s, which the gateway does not read", p, e.Name)
					}
				}
			}
		}
	}
}
