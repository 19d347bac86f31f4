// Command diminuendo runs the gateway. With no upstream URLs configured it
// starts the simulated platform services in-process (the embedded default).
// `diminuendo healthcheck` asks a running gateway's /livez instead: the
// container image has no shell and no curl.
package main

import (
	"fmt"
	"os"

	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Stderr))
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "diminuendo: configuration:", err)
		os.Exit(2)
	}
	os.Exit(root.Run(cfg, os.Stderr))
}
