import { expect, expectEverySeqOnce, newSession, openApp, send, shot, test, turnsDone } from "./helpers";

test("a running turn is steered, and another one stopped", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "guarded-agent", "controls");

  // While the turn waits on its prompt, the composer steers it.
  await send(page, "write carefully");
  const first = page.getByTestId("turn").nth(0);
  await expect(first.getByTestId("prompt")).toHaveAttribute("data-outcome", "pending");
  await page.getByTestId("composer-input").fill("keep it short");
  await page.getByTestId("steer-button").click();
  await expect(first.getByTestId("steer-applied")).toContainText("keep it short");
  await first.getByTestId("prompt-approve").click();
  await turnsDone(page, 1);
  await expect(first.getByTestId("assistant-text")).toContainText("Noted your guidance: keep it short.");
  await expect(page.getByTestId("token-usage")).toContainText(/tokens: \d+ in · \d+ out/);

  // Stop ends the next turn as cancelled.
  await send(page, "never mind");
  const second = page.getByTestId("turn").nth(1);
  await expect(second.getByTestId("prompt")).toHaveAttribute("data-outcome", "pending");
  await page.getByTestId("stop-button").click();
  await turnsDone(page, 2);
  await expect(second).toHaveAttribute("data-status", "cancelled");
  await expect(second.getByTestId("stop-reason")).toHaveText("cancelled");
  await expect(second.getByTestId("prompt")).toHaveAttribute("data-outcome", "unanswered");
  await expect(second.getByTestId("prompt-approve")).toHaveCount(0);
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "ready");
  await expect(page.getByTestId("send-button")).toBeVisible();
  await expectEverySeqOnce(page, id);
  await shot(page, info, "steered-and-stopped");
});
