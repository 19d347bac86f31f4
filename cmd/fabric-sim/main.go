// Command fabric-sim runs the simulated platform services in one process on
// loopback: Podium (which also serves Chronicle's workspace files, as the
// real one does for the gateway), Unison and Ensemble. Point a gateway at
// it with PODIUM_URL, UNISON_URL and ENSEMBLE_URL to run against real wire
// traffic in a process of its own, e.g. to restart the gateway while the
// upstreams keep their state.
//
// It prints one line per service, "<name> <url>", once all are listening,
// and stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/diminuendo/diminuendo/adapters/ensemble/ensemblesim"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "fabric-sim:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line; the flag package has already said why.
var errUsage = errors.New("usage")

// run serves until ctx ends. Every simulator is listening before the first
// line is printed, so a reader may use the URLs at once.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fabric-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	podiumAddr := fs.String("podium", "127.0.0.1:5082", "Podium (and Chronicle) listen `address`, loopback only")
	unisonAddr := fs.String("unison", "127.0.0.1:8005", "Unison listen `address`, loopback only")
	ensembleAddr := fs.String("ensemble", "127.0.0.1:5180", "Ensemble listen `address`, loopback only")
	stepDelay := fs.Duration("step-delay", 20*time.Millisecond, "pause between a simulated agent's events")
	pprofAddr := fs.String("pprof", "", "also serve net/http/pprof on this loopback `address`, to profile the simulators under load (off when empty)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fabric-sim [flags]\n\nAPI keys come from PODIUM_API_KEY, UNISON_API_KEY, ENSEMBLE_API_KEY;\nPODIUM_SECRETS_KEY opens the secrets sealed by the gateway.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fabric-sim: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	addrs := map[string]string{"podium": *podiumAddr, "unison": *unisonAddr, "ensemble": *ensembleAddr}
	if *pprofAddr != "" {
		addrs["pprof"] = *pprofAddr
	}
	for flagName, addr := range addrs {
		if err := loopback(addr); err != nil {
			return fmt.Errorf("-%s: %w", flagName, err)
		}
	}

	keys := map[string]string{}
	for _, name := range []string{"PODIUM_API_KEY", "UNISON_API_KEY", "ENSEMBLE_API_KEY"} {
		if keys[name] = getenv(name); keys[name] == "" {
			fmt.Fprintf(stderr, "fabric-sim: %s is empty: that service accepts requests without a key\n", name)
		}
	}

	psim := podiumsim.New(podiumsim.Options{APIKey: keys["PODIUM_API_KEY"], SecretsKey: getenv("PODIUM_SECRETS_KEY"), StepDelay: *stepDelay})
	defer psim.Close()
	purl, err := psim.Start(*podiumAddr)
	if err != nil {
		return fmt.Errorf("podium: %w", err)
	}
	usim := unisonsim.New(unisonsim.Options{APIKey: keys["UNISON_API_KEY"]})
	defer usim.Close()
	uurl, err := usim.Start(*unisonAddr)
	if err != nil {
		return fmt.Errorf("unison: %w", err)
	}
	esim := ensemblesim.New(ensemblesim.Options{APIKey: keys["ENSEMBLE_API_KEY"]})
	defer esim.Close()
	eurl, err := esim.Start(*ensembleAddr)
	if err != nil {
		return fmt.Errorf("ensemble: %w", err)
	}

	if *pprofAddr != "" {
		stopProfiles, url, err := serveProfiles(*pprofAddr)
		if err != nil {
			return fmt.Errorf("pprof: %w", err)
		}
		defer stopProfiles()
		fmt.Fprintf(stdout, "pprof     %s\n", url)
	}
	fmt.Fprintf(stdout, "podium    %s\n", purl)
	fmt.Fprintf(stdout, "chronicle %s (workspace files, served by podium)\n", purl)
	fmt.Fprintf(stdout, "unison    %s\n", uurl)
	fmt.Fprintf(stdout, "ensemble  %s\n", eurl)

	<-ctx.Done()
	fmt.Fprintln(stderr, "fabric-sim: stopping")
	return nil
}

// loopback refuses any address but a loopback one: the simulators accept
// every agent type and, without keys, every caller, so they must never be
// reachable from another machine.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing non-loopback address %q", addr)
	}
	return nil
}
