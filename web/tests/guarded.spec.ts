import { expect, expectEverySeqOnce, newSession, openApp, send, shot, test, turnsDone } from "./helpers";

test("a guarded agent's permission prompt is approved in one turn and denied in the next", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "guarded-agent", "guarded");

  // Turn 1: the prompt waits for an answer; approved, the tool runs.
  await send(page, "write with permission");
  const first = page.getByTestId("turn").nth(0);
  const prompt1 = first.getByTestId("prompt");
  await expect(prompt1).toHaveAttribute("data-outcome", "pending");
  await expect(prompt1).toContainText("Permission: write_file");
  await expect(prompt1).toContainText("Write notes.md in the workspace");
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "waiting");
  await expect(page.getByTestId("steer-button").or(page.getByTestId("stop-button"))).toHaveCount(2);
  await shot(page, info, "prompt-pending");
  await prompt1.getByTestId("prompt-approve").click();
  await turnsDone(page, 1);
  await expect(prompt1).toHaveAttribute("data-outcome", "approved");
  await expect(first.getByTestId("tool-card")).toHaveAttribute("data-status", "done");
  await expect(first.getByTestId("stop-reason")).toHaveText("end_turn");

  // Turn 2: denied, the tool never runs and the agent says so.
  await send(page, "write without permission");
  const second = page.getByTestId("turn").nth(1);
  const prompt2 = second.getByTestId("prompt");
  await expect(prompt2).toHaveAttribute("data-outcome", "pending");
  await prompt2.getByTestId("prompt-deny").click();
  await turnsDone(page, 2);
  await expect(prompt2).toHaveAttribute("data-outcome", "denied");
  await expect(prompt2.getByTestId("prompt-approve")).toHaveCount(0);
  await expect(second.getByTestId("tool-card")).toHaveCount(0);
  await expect(second.getByTestId("assistant-text")).toContainText("permission was not granted");
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "ready");
  await expectEverySeqOnce(page, id);
  await shot(page, info, "approved-then-denied");
});

test("a prompt raised while the page was away is answered after a reload", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "guarded-agent", "reload while waiting");
  await send(page, "ask me");
  await expect(page.getByTestId("prompt")).toHaveAttribute("data-outcome", "pending");

  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("session-view")).toHaveAttribute("data-session-id", id);
  const prompt = page.getByTestId("prompt");
  await expect(prompt).toHaveAttribute("data-outcome", "pending");
  await prompt.getByTestId("prompt-approve").click();
  await turnsDone(page, 1);
  await expect(prompt).toHaveAttribute("data-outcome", "approved");
  await expectEverySeqOnce(page, id);
  await shot(page, info, "answered-after-reload");
});
