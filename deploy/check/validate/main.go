// Command validate checks `helm template` output: every object is decoded strictly into its
// Kubernetes, KEDA or Prometheus Operator Go type (unknown or misspelt fields fail), then the
// render is held to what its profile promises (see assert.go). With -rules-out it writes the
// rule groups of the PrometheusRule objects as a Prometheus rule file, for `promtool check rules`.
//
//	validate [-identity aws|gcp] [-autoscaler keda|hpa|none] [-monitoring] [-rules-out FILE] RENDERED.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	var expect Expect
	flag.StringVar(&expect.Identity, "identity", "", "cloud identity the ServiceAccount must carry: aws or gcp")
	flag.StringVar(&expect.Autoscaler, "autoscaler", "", "keda, hpa or none")
	flag.BoolVar(&expect.Monitoring, "monitoring", false, "require a ServiceMonitor and a PrometheusRule")
	flag.BoolVar(&expect.Ingest, "ingest", false, "require an ingest Service (broker.type http) targeting the pod's ingest port")
	rulesOut := flag.String("rules-out", "", "write the PrometheusRule groups to this file")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: validate [flags] RENDERED.yaml")
		os.Exit(2)
	}
	path := flag.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	objects, errs := DecodeAll(path, data)
	if len(errs) == 0 {
		errs = Check(objects, expect)
	}
	if len(errs) == 0 && *rulesOut != "" {
		errs = writeRules(objects, *rulesOut)
	}
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "  ✗", err)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	fmt.Printf("  ✓ %s: %d objects valid\n", path, len(objects))
}

// writeRules writes the PrometheusRule spec(s) as one rule file (its format is the spec's).
func writeRules(objects []*Object, path string) []error {
	var spec monitoringv1.PrometheusRuleSpec
	for _, object := range objects {
		if rule, ok := object.Value.(*monitoringv1.PrometheusRule); ok {
			spec.Groups = append(spec.Groups, rule.Spec.Groups...)
		}
	}
	out, err := yaml.Marshal(spec)
	if err == nil {
		err = os.WriteFile(path, out, 0o644)
	}
	if err != nil {
		return []error{err}
	}
	return nil
}
