package main

import (
	"fmt"
	"regexp"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Expect says what a rendered profile must hold beyond being schema-valid.
type Expect struct {
	// Identity: "aws" (IRSA role annotation), "gcp" (Workload Identity annotation) or "" (no check).
	Identity string
	// Autoscaler: "keda", "hpa", "none" or "" (no check).
	Autoscaler string
	// Monitoring: a ServiceMonitor and a non-empty PrometheusRule.
	Monitoring bool
	// Ingest: a Service whose port targets the container port named "ingest" (broker.type http).
	Ingest bool
}

var identityAnnotation = map[string]string{
	"aws": "eks.amazonaws.com/role-arn",
	"gcp": "iam.gke.io/gcp-service-account",
}

// lagQuery is what a KEDA prometheus trigger must scale on: Sluice's own lag series.
var lagQuery = regexp.MustCompile(`\bsluice_source_lag_(seconds|events)\b`)

type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        corev1.PodTemplateSpec
}

// Check returns every way the objects of one render fall short of expect. Some rules hold for
// every render: one workload, non-root, probes on /healthz and /readyz, never both autoscalers.
func Check(objects []*Object, expect Expect) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var workloads []workload
	var accounts []*corev1.ServiceAccount
	var scaled []*kedav1alpha1.ScaledObject
	var hpas []*autoscalingv2.HorizontalPodAutoscaler
	var monitors []*monitoringv1.ServiceMonitor
	var services []*corev1.Service
	var budgets []*policyv1.PodDisruptionBudget
	var rules []*monitoringv1.PrometheusRule
	for _, object := range objects {
		switch value := object.Value.(type) {
		case *appsv1.Deployment:
			workloads = append(workloads, workload{"Deployment", value.Name, value.Spec.Selector, value.Spec.Template})
		case *appsv1.StatefulSet:
			workloads = append(workloads, workload{"StatefulSet", value.Name, value.Spec.Selector, value.Spec.Template})
		case *corev1.ServiceAccount:
			accounts = append(accounts, value)
		case *kedav1alpha1.ScaledObject:
			scaled = append(scaled, value)
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpas = append(hpas, value)
		case *monitoringv1.ServiceMonitor:
			monitors = append(monitors, value)
		case *corev1.Service:
			services = append(services, value)
		case *policyv1.PodDisruptionBudget:
			budgets = append(budgets, value)
		case *monitoringv1.PrometheusRule:
			rules = append(rules, value)
		}
	}

	if len(workloads) != 1 {
		fail("want exactly one Deployment or StatefulSet, found %d", len(workloads))
		return errs
	}
	w := workloads[0]
	errs = append(errs, checkPod(w)...)
	errs = append(errs, checkSelectors(w, services, monitors, budgets)...)

	if annotation, ok := identityAnnotation[expect.Identity]; ok {
		found := false
		for _, account := range accounts {
			if account.Name == w.pod.Spec.ServiceAccountName && account.Annotations[annotation] != "" {
				found = true
			}
		}
		if !found {
			fail("%s: no ServiceAccount %q with annotation %s", expect.Identity, w.pod.Spec.ServiceAccountName, annotation)
		}
	}

	if len(scaled) > 0 && len(hpas) > 0 {
		fail("both a KEDA ScaledObject and an HPA target the workload; KEDA creates its own HPA")
	}
	for _, object := range scaled {
		if object.Spec.ScaleTargetRef == nil || object.Spec.ScaleTargetRef.Name != w.name || kindOr(object.Spec.ScaleTargetRef.Kind, "Deployment") != w.kind {
			fail("ScaledObject %s does not target %s %s", object.Name, w.kind, w.name)
		}
		lag := false
		for _, trigger := range object.Spec.Triggers {
			if trigger.Type == "prometheus" && lagQuery.MatchString(trigger.Metadata["query"]) && trigger.Metadata["serverAddress"] != "" && trigger.Metadata["threshold"] != "" {
				lag = true
			}
		}
		if !lag {
			fail("ScaledObject %s has no prometheus trigger (serverAddress, threshold) whose query names sluice_source_lag_seconds or _events", object.Name)
		}
	}
	for _, hpa := range hpas {
		if hpa.Spec.ScaleTargetRef.Name != w.name || hpa.Spec.ScaleTargetRef.Kind != w.kind {
			fail("HPA %s does not target %s %s", hpa.Name, w.kind, w.name)
		}
	}
	switch expect.Autoscaler {
	case "keda":
		if len(scaled) != 1 {
			fail("want one KEDA ScaledObject, found %d", len(scaled))
		}
	case "hpa":
		if len(hpas) != 1 || len(scaled) != 0 {
			fail("want one HPA and no ScaledObject, found %d and %d", len(hpas), len(scaled))
		}
	case "none":
		if len(hpas)+len(scaled) != 0 {
			fail("want no autoscaler, found %d HPA and %d ScaledObject", len(hpas), len(scaled))
		}
	}

	if expect.Monitoring {
		if len(monitors) != 1 {
			fail("want one ServiceMonitor, found %d", len(monitors))
		}
		count := 0
		for _, rule := range rules {
			for _, group := range rule.Spec.Groups {
				count += len(group.Rules)
			}
		}
		if len(rules) != 1 || count == 0 {
			fail("want one PrometheusRule with rules, found %d object(s) with %d rule(s)", len(rules), count)
		}
	}
	if expect.Ingest {
		for _, w := range workloads {
			errs = append(errs, checkIngest(w, services)...)
		}
	}
	return errs
}

// checkIngest: the HTTP source's port is a named container port and a Service targets it by that
// name (a Service that targets a port the pod does not declare has no endpoints).
func checkIngest(w workload, services []*corev1.Service) []error {
	declared := false
	for _, c := range w.pod.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == "ingest" && port.ContainerPort > 0 {
				declared = true
			}
		}
	}
	if !declared {
		return []error{fmt.Errorf("%s %s: no container port named ingest", w.kind, w.name)}
	}
	for _, service := range services {
		for _, port := range service.Spec.Ports {
			if port.TargetPort.StrVal == "ingest" {
				return nil
			}
		}
	}
	return []error{fmt.Errorf("no Service targets the ingest port of %s %s", w.kind, w.name)}
}

func kindOr(kind, fallback string) string {
	if kind == "" {
		return fallback
	}
	return kind
}

// checkPod: the container runs as non-root and is probed on the metrics port's health paths.
func checkPod(w workload) []error {
	var errs []error
	spec := w.pod.Spec
	podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
	if len(spec.Containers) == 0 {
		return []error{fmt.Errorf("%s %s has no containers", w.kind, w.name)}
	}
	for _, c := range spec.Containers {
		nonRoot := podNonRoot
		if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
			nonRoot = *c.SecurityContext.RunAsNonRoot
		}
		if !nonRoot {
			errs = append(errs, fmt.Errorf("%s %s container %s: runAsNonRoot is not true", w.kind, w.name, c.Name))
		}
		if !httpProbe(c.ReadinessProbe, "/readyz") {
			errs = append(errs, fmt.Errorf("%s %s container %s: no readiness probe on /readyz", w.kind, w.name, c.Name))
		}
		if !httpProbe(c.LivenessProbe, "/healthz") {
			errs = append(errs, fmt.Errorf("%s %s container %s: no liveness probe on /healthz", w.kind, w.name, c.Name))
		}
	}
	return errs
}

func httpProbe(probe *corev1.Probe, path string) bool {
	return probe != nil && probe.HTTPGet != nil && probe.HTTPGet.Path == path
}

// checkSelectors: the API server accepts selectors that select nothing, and then the Service has
// no endpoints, the ServiceMonitor scrapes nothing (so KEDA sees no lag) and the PDB guards nothing.
func checkSelectors(w workload, services []*corev1.Service, monitors []*monitoringv1.ServiceMonitor, budgets []*policyv1.PodDisruptionBudget) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	podLabels := labels.Set(w.pod.Labels)
	matches := func(selector *metav1.LabelSelector, set labels.Set) bool {
		parsed, err := metav1.LabelSelectorAsSelector(selector)
		return err == nil && selector != nil && !parsed.Empty() && parsed.Matches(set)
	}
	if !matches(w.selector, podLabels) {
		fail("%s %s: spec.selector does not match its pod template's labels", w.kind, w.name)
	}
	for _, service := range services {
		if len(service.Spec.Selector) == 0 || !labels.SelectorFromSet(service.Spec.Selector).Matches(podLabels) {
			fail("Service %s does not select the pods of %s %s", service.Name, w.kind, w.name)
		}
	}
	for _, budget := range budgets {
		if !matches(budget.Spec.Selector, podLabels) {
			fail("PodDisruptionBudget %s does not select the pods of %s %s", budget.Name, w.kind, w.name)
		}
	}
	for _, monitor := range monitors {
		scraped := false
		for _, service := range services {
			if !matches(&monitor.Spec.Selector, labels.Set(service.Labels)) {
				continue
			}
			for _, endpoint := range monitor.Spec.Endpoints {
				for _, port := range service.Spec.Ports {
					if endpoint.Port != "" && endpoint.Port == port.Name {
						scraped = true
					}
				}
			}
		}
		if !scraped {
			fail("ServiceMonitor %s selects no Service port it names", monitor.Name)
		}
	}
	return errs
}
