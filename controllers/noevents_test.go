package controllers

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// noEvents is an EventRecorder that drops events, for reconcilers called directly in tests.
type noEvents struct{}

func (noEvents) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}
