import { type Page, type TestInfo, test as base, expect } from "@playwright/test";

// Helpers shared by the specs: they drive the UI the way a person would,
// through the data-testid hooks of the app.

// test is Playwright's, with a page that fails the test on an uncaught
// error in the app or anything the Content-Security-Policy refused.
// A test that expects a refusal names it with test.use({ expectedRefusals }).
export const test = base.extend<{ expectedRefusals: RegExp[] }>({
  expectedRefusals: [[], { option: true }],
  page: async ({ page, expectedRefusals }, use) => {
    const check = watch(page, expectedRefusals);
    await use(page);
    check();
  },
});

// watch collects a page's uncaught errors and CSP refusals; the returned
// function fails the test when there were any but the expected ones.
export function watch(page: Page, expected: RegExp[] = []): () => void {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(text) && !expected.some((r) => r.test(text))) {
      problems.push(text);
    }
  });
  return () => expect(problems).toEqual([]);
}
export { expect };

export async function openApp(page: Page, hash = "") {
  await page.goto(`/${hash}`);
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
}

// newSession creates a session of agentType named name and opens it.
export async function newSession(page: Page, agentType: string, name: string): Promise<string> {
  const typed = page.getByTestId("agent-type-input");
  const select = page.getByTestId("agent-type-select");
  await expect(typed.or(select)).toBeVisible();
  if (await typed.isVisible()) {
    await typed.fill(agentType);
  } else {
    await select.click();
    const label = new RegExp(`^${agentType}$|\\(${agentType}\\)$`);
    await page.getByRole("option", { name: label }).click();
  }
  await page.getByTestId("new-session-name").fill(name);
  await page.getByTestId("new-session").click();
  const view = page.getByTestId("session-view");
  await expect(page.getByTestId("session-title")).toHaveText(name);
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "ready");
  return (await view.getAttribute("data-session-id")) as string;
}

export async function send(page: Page, text: string) {
  await page.getByTestId("composer-input").fill(text);
  await page.getByTestId("send-button").click();
}

// turnsDone waits until n turns have ended.
export async function turnsDone(page: Page, n: number) {
  await expect(page.getByTestId("turn-end")).toHaveCount(n, { timeout: 30_000 });
}

// seqs are the seqs the page applied, in order.
export async function seqs(page: Page): Promise<number[]> {
  const raw = (await page.getByTestId("transcript").getAttribute("data-seqs")) ?? "";
  return raw ? raw.split(",").map(Number) : [];
}

// expectEverySeqOnce checks the page holds seqs 1..latestSeq of the
// session, each exactly once, in order, as the gateway has them.
export async function expectEverySeqOnce(page: Page, sessionId: string) {
  const latest = await page.evaluate(async (id) => {
    const c = (window as any).__diminuendo.client;
    const page = await c.getEvents(id, 0, 1000);
    return (page.latestSeq ?? page.events?.length) as number;
  }, sessionId);
  const got = await seqs(page);
  expect(latest).toBeGreaterThan(0);
  expect(got).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
}

export async function shot(page: Page, info: TestInfo, name: string) {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}
