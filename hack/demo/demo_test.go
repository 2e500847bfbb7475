package main

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestDemo runs the demo end to end (without --keep) and checks that every sample of
// config/samples is Ready, that kubectl imply exported the CA, and that its restart rolled the
// cluster in Druid's order.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	began := time.Now()
	res, err := Run(ctx, Options{Out: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo ran in %s", time.Since(began).Round(time.Millisecond))

	files, err := filepath.Glob("../../config/samples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := len(files) - 1 // all but kustomization.yaml, one object each
	if _, err := os.Stat("../../config/samples/kustomization.yaml"); err != nil {
		want = len(files)
	}
	if len(res.Samples) != want {
		t.Errorf("the demo reported %d samples, want %d", len(res.Samples), want)
	}
	for _, s := range res.Samples {
		if !s.HasReady {
			t.Errorf("%s/%s (%s) has no Ready condition", s.Kind, s.Name, s.File)
			continue
		}
		if s.Status != "True" {
			t.Errorf("%s %s is not Ready: %s %s", s.Kind, s.Name, s.Reason, s.Message)
		}
		if s.Status == "" || s.Reason == "" {
			t.Errorf("%s/%s has an incomplete Ready condition: status %q reason %q", s.Kind, s.Name, s.Status, s.Reason)
		}
	}
	if len(res.Nodes) == 0 {
		t.Error("the demo reported no nodes")
	}
	// kubectl imply: the CA export is a PEM certificate, and the restart rolled every step in
	// Druid's order (Run fails otherwise; checked here too).
	data, err := os.ReadFile(res.CAFile)
	if err != nil {
		t.Fatalf("kubectl imply ca wrote no file: %v", err)
	}
	if block, _ := pem.Decode(data); block == nil || block.Type != "CERTIFICATE" {
		t.Errorf("%s is not a PEM certificate", res.CAFile)
	}
	if len(res.ExpectedOrder) < 4 || !slices.Equal(res.RestartOrder, res.ExpectedOrder) {
		t.Errorf("the restart rolled %v, want %v", res.RestartOrder, res.ExpectedOrder)
	}
}
