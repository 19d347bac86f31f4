// Command diminuendo runs the gateway. With no upstream URLs configured it
// starts the simulated platform services in-process (the embedded default).
package main

import (
	"fmt"
	"os"

	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "diminuendo: configuration:", err)
		os.Exit(2)
	}
	root.New(cfg).Run()
}
