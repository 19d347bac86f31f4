import { expect, expectEverySeqOnce, newSession, openApp, send, shot, test, turnsDone } from "./helpers";

test("a coding-agent turn shows its thinking, tool card, terminal output and diff", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "coding-agent", "coding turn");

  await send(page, "write hello");
  await turnsDone(page, 1);
  const turn = page.getByTestId("turn").first();
  await expect(turn.getByTestId("user-message")).toHaveText("write hello");

  // Thinking: collapsed, then opened.
  const thinking = turn.getByTestId("thinking");
  await expect(thinking).toHaveAttribute("data-done", "true");
  await thinking.getByTestId("thinking-toggle").click();
  await expect(thinking.getByTestId("thinking-text")).toContainText("Reading the request. I will record it in notes.md.");

  // The tool card: pretty input, status, output.
  const tool = turn.getByTestId("tool-card");
  await expect(tool).toHaveAttribute("data-tool", "write_file");
  await expect(tool).toHaveAttribute("data-status", "done");
  await expect(tool.getByTestId("tool-input")).toContainText('"path": "notes.md"');
  await expect(tool.getByTestId("tool-output")).toContainText("wrote 21 bytes to notes.md (iteration 1)");

  // The write as a diff against nothing before it.
  const diff = tool.getByTestId("file-diff");
  await expect(diff.locator('[data-diff="add"]')).toHaveText(["+ # Notes", "+ ", "+ write hello"]);
  await expect(diff.locator('[data-diff="del"]')).toHaveCount(0);

  // Terminal output and its exit code.
  const term = turn.getByTestId("terminal");
  await expect(term).toContainText("$ wc -c notes.md");
  await expect(term.getByTestId("exit-code")).toHaveAttribute("data-exit-code", "0");

  // Streamed markdown and usage.
  await expect(turn.getByTestId("assistant-text").last()).toContainText("I saved your request to notes.md (iteration 1).");
  await expect(turn.getByTestId("stop-reason")).toHaveText("end_turn");
  await expect(page.getByTestId("token-usage")).toContainText(/tokens: \d+ in · \d+ out/);
  await shot(page, info, "coding-turn-1");

  // A second write is shown against the first.
  await send(page, "write goodbye");
  await turnsDone(page, 2);
  const second = page.getByTestId("turn").nth(1).getByTestId("file-diff");
  await expect(second.locator('[data-diff="del"]')).toHaveText(["- write hello"]);
  await expect(second.locator('[data-diff="add"]')).toHaveText(["+ write goodbye"]);
  await expectEverySeqOnce(page, id);
  await shot(page, info, "coding-turn-2");

  // The workspace browser: the file, its content and its history.
  await page.getByTestId("files-tab").click();
  await page.locator('[data-testid="file-entry"][data-path="notes.md"]').click();
  await expect(page.getByTestId("file-content")).toContainText("write goodbye");
  await expect(page.getByTestId("file-iteration")).toHaveText(["#2", "#1"]);
  await page.getByTestId("file-iteration").first().click();
  await expect(page.getByTestId("history-diff").locator('[data-diff="add"]')).toHaveText(["+ write goodbye"]);
  await shot(page, info, "files");

  // Reopened, the session is rebuilt from its history; older writes load
  // their diffs on demand.
  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("user-message")).toHaveText(["write hello", "write goodbye"]);
  const old = page.getByTestId("turn").nth(0).getByTestId("tool-card");
  await expect(old.getByTestId("file-diff")).toHaveCount(0);
  await old.getByTestId("show-diff").click();
  await expect(old.getByTestId("file-diff").locator('[data-diff="add"]')).toHaveText(["+ # Notes", "+ ", "+ write hello"]);
  await expect(page.getByTestId("turn").nth(1).getByTestId("file-diff").locator('[data-diff="add"]')).toHaveText(["+ write goodbye"]);
  await expectEverySeqOnce(page, id);
});

test.describe(() => {
  // DOMPurify parses the text in an inert document; Chromium reports the
  // inline handler it meets there as refused by the page's CSP (the inert
  // document would not have run it either).
  test.use({ expectedRefusals: [/^Executing inline event handler violates/] });

  test("agent text is rendered as sanitised markdown", async ({ page }, info) => {
    await openApp(page);
    await newSession(page, "echo", "markdown");
    await send(page, "**bold** and `code` <img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>");
    await turnsDone(page, 1);
    const text = page.getByTestId("assistant-text").first();
    await expect(text.locator("strong")).toHaveText("bold");
    await expect(text.locator("code")).toHaveText("code");
    await expect(text.locator("script")).toHaveCount(0);
    await expect(text.locator("img")).not.toHaveAttribute("onerror", /.*/);
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
    await shot(page, info, "markdown");
  });
});
