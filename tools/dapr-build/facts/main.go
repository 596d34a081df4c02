// Command facts prints, as JSON, what `npm run validate` checks Dapr manifests against, read from the
// pinned Dapr code itself rather than copied by hand:
//   - the pod annotations the sidecar injector reads (patcher.SidecarConfig), each with the Go type the
//     injector parses its value into;
//   - the metadata names of components-contrib's Microsoft Entra ID authentication, the "azuread"
//     built-in authentication profile that several components declare (its YAML definition is not part
//     of the module).
//
// `facts retry-horizons` instead reads a sidecar's Resiliency resources and components (JSON, stdin) and
// prints how daprd's retries of each component end (retries.go).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/dapr/components-contrib/common/authentication/azure"
	"github.com/dapr/dapr/pkg/injector/patcher"
)

type annotation struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func injectorAnnotations() []annotation {
	t := reflect.TypeOf(patcher.SidecarConfig{})
	var out []annotation
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("annotation"); name != "" {
			out = append(out, annotation{Name: name, Type: t.Field(i).Type.String()})
		}
	}
	return out
}

func azureAuthMetadata() []string {
	var names []string
	for _, aliases := range azure.MetadataKeys {
		names = append(names, aliases...)
	}
	sort.Strings(names)
	return names
}

func main() {
	var facts any
	if len(os.Args) > 1 && os.Args[1] == "retry-horizons" {
		horizons, err := retryHorizons(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		facts = horizons
	} else {
		facts = map[string]any{"injectorAnnotations": injectorAnnotations(), "azureAuthMetadata": azureAuthMetadata()}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(facts); err != nil {
		os.Exit(1)
	}
}
