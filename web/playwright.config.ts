import { defineConfig } from "@playwright/test";

// The browser tests drive the gateway binary in dev mode (embedded
// simulators; the client it serves is the committed dist/) with the
// machine's own Chromium: nothing is downloaded.
const port = Number(process.env.WEB_TEST_PORT ?? 18090);

export default defineConfig({
  testDir: "tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    headless: true,
    screenshot: "on",
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    },
  },
  webServer: {
    command:
      `go build -o ../bin/diminuendo ../cmd/diminuendo && ` +
      // DATA_DIR under bin/ (ignored by git), not a data/ beside the specs.
      `DEV_MODE=true HOST=127.0.0.1 PORT=${port} SIM_STEP_DELAY=5ms LOG_LEVEL=warn DATA_DIR=../bin/web-test-data ../bin/diminuendo`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 300_000, // a cold go build of the gateway on a small CI machine
    stdout: "ignore",
    stderr: "pipe",
  },
});
