package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"
	"unsafe"

	"github.com/cenkalti/backoff/v4"
	"github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
	"github.com/dapr/dapr/pkg/resiliency"
	"github.com/dapr/kit/logger"
)

// retryHorizonRequest is what one sidecar loads: its Resiliency resources and the components they may target.
type retryHorizonRequest struct {
	Resiliencies []*v1alpha1.Resiliency `json:"resiliencies"`
	Components   []struct {
		Name string `json:"name"`
		// Category as daprd's resiliency package names it: Pubsub, Binding, Statestore, ...
		Category string `json:"category"`
	} `json:"components"`
}

// retryHorizon says whether retries under one policy can end by themselves, and when.
type retryHorizon struct {
	// Retries is false when the direction has no retry policy: the first failure is final.
	Retries bool `json:"retries"`
	// MaxRetries, when the policy counts its retries (maxRetries >= 0).
	MaxRetries *int64 `json:"maxRetries,omitempty"`
	// StopsAfter is how long the back-off lets failing attempts go on before it gives up (Go duration).
	StopsAfter string `json:"stopsAfter,omitempty"`
	// NeverStopsWithin is set when the back-off did not give up within this simulated time.
	NeverStopsWithin string `json:"neverStopsWithin,omitempty"`
}

// simulatedHorizon is how far the back-off is followed on a simulated clock, in 10 million steps at most.
const (
	simulatedHorizon = 90 * 24 * time.Hour
	simulatedSteps   = 10_000_000
)

type simulatedClock struct{ now time.Time }

func (c *simulatedClock) Now() time.Time { return c.now }

// retryOf reads the retry policy daprd resolved for a component direction. The resiliency package
// exposes the policy only through its runner; reading the field keeps this check on daprd's own
// resolution (named targets, default policies, built-in overrides) instead of a copy of it.
func retryOf(def *resiliency.PolicyDefinition) *resiliency.Retry {
	field := reflect.ValueOf(def).Elem().FieldByName("r")
	return *(**resiliency.Retry)(unsafe.Pointer(field.UnsafeAddr()))
}

// horizonOf follows the back-off that daprd builds for each retry (retry.Config.NewBackOff) on a
// simulated clock, every attempt failing at once, until it gives up or the horizon passes.
func horizonOf(r *resiliency.Retry) retryHorizon {
	if r == nil {
		return retryHorizon{Retries: false}
	}
	h := retryHorizon{Retries: true}
	if r.MaxRetries >= 0 {
		n := r.MaxRetries
		h.MaxRetries = &n
	}
	b := r.Config.NewBackOff()
	clock := &simulatedClock{now: time.Unix(0, 0)}
	if eb, ok := b.(*backoff.ExponentialBackOff); ok {
		eb.Clock = clock
	}
	b.Reset()
	start := clock.now
	for step := 0; step < simulatedSteps; step++ {
		next := b.NextBackOff()
		if next == backoff.Stop {
			h.StopsAfter = clock.now.Sub(start).String()
			return h
		}
		clock.now = clock.now.Add(next)
		if clock.now.Sub(start) >= simulatedHorizon {
			break
		}
	}
	h.NeverStopsWithin = clock.now.Sub(start).String()
	return h
}

// retryHorizons answers, for each component, how daprd's inbound and outbound retries end.
func retryHorizons(in io.Reader) (map[string]map[string]retryHorizon, error) {
	var req retryHorizonRequest
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	log := logger.NewLogger("facts")
	log.SetOutput(os.Stderr)
	log.SetOutputLevel(logger.WarnLevel)
	res := resiliency.FromConfigurations(log, req.Resiliencies...)
	out := map[string]map[string]retryHorizon{}
	for _, c := range req.Components {
		category := resiliency.ComponentType(c.Category)
		out[c.Name] = map[string]retryHorizon{
			"inbound":  horizonOf(retryOf(res.ComponentInboundPolicy(c.Name, category))),
			"outbound": horizonOf(retryOf(res.ComponentOutboundPolicy(c.Name, category))),
		}
	}
	return out, nil
}
