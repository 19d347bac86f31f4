package root

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/diminuendo/diminuendo/adapters/fake"
	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/ports"
)

func devConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=error", "DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The graph is complete: every constructor's dependencies are provided.
func TestGraphValidates(t *testing.T) {
	if err := fx.ValidateApp(Options(devConfig(t)), fx.NopLogger); err != nil {
		t.Fatal(err)
	}
}

// The test composition root: the real graph with the registry and the
// agent runtime swapped for in-memory fakes at the root.
func TestRootSwapsInFakes(t *testing.T) {
	reg := fake.NewSessionRegistry()
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
	defer rt.Close()
	var srv *httpadapter.Server
	app := fxtest.New(t, Options(devConfig(t)), fx.NopLogger,
		fx.Replace(fx.Annotate(reg, fx.As(new(ports.SessionRegistry)))),
		fx.Replace(fx.Annotate(rt, fx.As(new(ports.AgentRuntime)))),
		fx.Populate(&srv),
	)
	app.RequireStart()
	defer app.RequireStop()

	resp, err := http.Post("http://"+srv.Addr()+"/api/sessions", "application/json", strings.NewReader(`{"agentType":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	list, err := reg.List(context.Background(), "dev")
	if err != nil || len(list) != 1 || list[0].AgentType != "echo" {
		t.Fatalf("the fake registry did not receive the session: %v %v", list, err)
	}
}
