package main

import (
	"fmt"
	"regexp"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds maps every apiVersion/kind the chart may render to the Go type the API server (or the
// CRD's controller) decodes it into. A kind missing here is an error: the chart must not grow
// objects nobody validates.
var kinds = map[schema.GroupVersionKind]func() any{
	corev1.SchemeGroupVersion.WithKind("ConfigMap"):                      func() any { return &corev1.ConfigMap{} },
	corev1.SchemeGroupVersion.WithKind("Service"):                        func() any { return &corev1.Service{} },
	corev1.SchemeGroupVersion.WithKind("ServiceAccount"):                 func() any { return &corev1.ServiceAccount{} },
	appsv1.SchemeGroupVersion.WithKind("Deployment"):                     func() any { return &appsv1.Deployment{} },
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):                    func() any { return &appsv1.StatefulSet{} },
	networkingv1.SchemeGroupVersion.WithKind("Ingress"):                  func() any { return &networkingv1.Ingress{} },
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):          func() any { return &policyv1.PodDisruptionBudget{} },
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	kedav1alpha1.SchemeGroupVersion.WithKind("ScaledObject"):             func() any { return &kedav1alpha1.ScaledObject{} },
	kedav1alpha1.SchemeGroupVersion.WithKind("TriggerAuthentication"):    func() any { return &kedav1alpha1.TriggerAuthentication{} },
	monitoringv1.SchemeGroupVersion.WithKind("ServiceMonitor"):           func() any { return &monitoringv1.ServiceMonitor{} },
	monitoringv1.SchemeGroupVersion.WithKind("PrometheusRule"):           func() any { return &monitoringv1.PrometheusRule{} },
}

// Object is one decoded manifest: where it came from, its kind and name, and the typed value.
type Object struct {
	Source string
	GVK    schema.GroupVersionKind
	Name   string
	Value  any
}

// separator is a YAML document separator line; helm writes `---` before each template's output.
var separator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// splitDocuments splits a multi-document YAML stream, dropping documents that hold only comments
// (helm template emits those for templates that render nothing).
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, part := range separator.Split(string(data), -1) {
		for _, line := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(part))
				break
			}
		}
	}
	return docs
}

// decodeStrict turns one YAML document into its typed object the way the API server's strict
// field validation would: duplicate keys, unknown fields and fields in the wrong case are errors.
func decodeStrict(source string, doc []byte) (*Object, error) {
	jsonDoc, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", source, err)
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(jsonDoc, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	gv, err := schema.ParseGroupVersion(meta.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: apiVersion %q: %w", source, meta.APIVersion, err)
	}
	gvk := gv.WithKind(meta.Kind)
	id := fmt.Sprintf("%s %s/%s", source, meta.Kind, meta.Metadata.Name)
	if meta.Metadata.Name == "" {
		return nil, fmt.Errorf("%s: metadata.name is empty", id)
	}
	newValue, known := kinds[gvk]
	if !known {
		return nil, fmt.Errorf("%s: %s is not a kind this checker knows; add its Go type to kinds", id, gvk)
	}
	value := newValue()
	strictErrors, err := kjson.UnmarshalStrict(jsonDoc, value, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	if len(strictErrors) > 0 {
		messages := make([]string, len(strictErrors))
		for i, e := range strictErrors {
			messages[i] = e.Error()
		}
		return nil, fmt.Errorf("%s: %s", id, strings.Join(messages, "; "))
	}
	return &Object{Source: source, GVK: gvk, Name: meta.Metadata.Name, Value: value}, nil
}

// DecodeAll decodes every document of a rendered file and returns the objects and every error.
func DecodeAll(source string, data []byte) ([]*Object, []error) {
	var objects []*Object
	var errs []error
	for i, doc := range splitDocuments(data) {
		object, err := decodeStrict(fmt.Sprintf("%s#%d", source, i+1), doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objects = append(objects, object)
	}
	return objects, errs
}
