package main

import (
	"strings"
	"testing"
)

// A workload that passes every always-on rule; the tests below break it one way at a time.
const goodDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: sluice }
spec:
  selector: { matchLabels: { app: sluice } }
  template:
    metadata: { labels: { app: sluice } }
    spec:
      serviceAccountName: sluice
      securityContext: { runAsNonRoot: true, runAsUser: 10001 }
      containers:
        - name: sluice
          image: sluice:0.1.0
          readinessProbe: { httpGet: { path: /readyz, port: metrics } }
          livenessProbe: { httpGet: { path: /healthz, port: metrics } }
`

func decodeAndCheck(t *testing.T, rendered string, expect Expect) []error {
	t.Helper()
	objects, errs := DecodeAll("test.yaml", []byte(rendered))
	if len(errs) > 0 {
		return errs
	}
	return Check(objects, expect)
}

func wantError(t *testing.T, errs []error, fragment string) {
	t.Helper()
	for _, err := range errs {
		if strings.Contains(err.Error(), fragment) {
			return
		}
	}
	t.Fatalf("want an error containing %q, got %v", fragment, errs)
}

func TestGoodDeploymentPasses(t *testing.T) {
	if errs := decodeAndCheck(t, "---\n# Source: x\n"+goodDeployment+"---\n# empty\n", Expect{}); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestUnknownFieldFails(t *testing.T) {
	broken := strings.Replace(goodDeployment, "image: sluice:0.1.0", "image: sluice:0.1.0\n          imagePullPolicyy: Always", 1)
	wantError(t, decodeAndCheck(t, broken, Expect{}), `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`)
}

func TestWrongCaseFails(t *testing.T) {
	// encoding/json would accept this; the API server (and this checker) does not.
	broken := strings.Replace(goodDeployment, "readinessProbe:", "readinessprobe:", 1)
	wantError(t, decodeAndCheck(t, broken, Expect{}), "readinessprobe")
}

func TestDuplicateKeyFails(t *testing.T) {
	broken := strings.Replace(goodDeployment, "serviceAccountName: sluice", "serviceAccountName: sluice\n      serviceAccountName: other", 1)
	wantError(t, decodeAndCheck(t, broken, Expect{}), "serviceAccountName")
}

func TestUnknownKindFails(t *testing.T) {
	wantError(t, decodeAndCheck(t, "apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n", Expect{}), "not a kind this checker knows")
}

func TestUnknownKedaFieldFails(t *testing.T) {
	scaled := "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: { name: s }\nspec:\n  scaleTargetRef: { name: sluice }\n  maxReplicas: 3\n  triggers: []\n"
	wantError(t, decodeAndCheck(t, scaled, Expect{}), `unknown field "spec.maxReplicas"`)
}

func TestProfileRules(t *testing.T) {
	rootAndNoReadiness := strings.Replace(strings.Replace(goodDeployment, "runAsNonRoot: true", "runAsNonRoot: false", 1), "/readyz", "/healthz", 1)
	errs := decodeAndCheck(t, rootAndNoReadiness, Expect{Identity: "aws", Autoscaler: "keda", Monitoring: true})
	for _, fragment := range []string{"runAsNonRoot", "readiness probe on /readyz", "eks.amazonaws.com/role-arn", "want one KEDA ScaledObject", "ServiceMonitor", "PrometheusRule"} {
		wantError(t, errs, fragment)
	}
}

func TestKedaTriggerMustScaleOnLag(t *testing.T) {
	scaled := `
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: sluice }
spec:
  scaleTargetRef: { name: sluice }
  triggers:
    - type: prometheus
      metadata: { serverAddress: "http://prometheus:9090", query: "sum(sluice_queue_depth)", threshold: "10" }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: sluice }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: sluice }
  maxReplicas: 3
`
	errs := decodeAndCheck(t, goodDeployment+scaled, Expect{Autoscaler: "keda"})
	wantError(t, errs, "sluice_source_lag_seconds")
	wantError(t, errs, "both a KEDA ScaledObject and an HPA")
}

func TestSelectorsMustSelect(t *testing.T) {
	others := `
---
apiVersion: v1
kind: Service
metadata: { name: sluice, labels: { app: other } }
spec:
  selector: { app: other }
  ports: [{ name: metrics, port: 9464 }]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: sluice }
spec:
  selector: { matchLabels: { app: sluice } }
  endpoints: [{ port: metrics }]
`
	errs := decodeAndCheck(t, goodDeployment+others, Expect{})
	wantError(t, errs, "Service sluice does not select the pods")
	wantError(t, errs, "ServiceMonitor sluice selects no Service port")
}
