import { expect, expectEverySeqOnce, newSession, openApp, send, shot, test, turnsDone } from "./helpers";

test("a socket dropped mid-turn resumes with no event lost or doubled", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "coding-agent", "resume");

  // The first turn runs undisturbed.
  await send(page, "first");
  await turnsDone(page, 1);

  // The second is cut off right after its thinking starts: the rest of
  // its events happen while the page is disconnected.
  await page.evaluate(() => {
    const hook = (window as any).__diminuendo;
    hook.states = [] as string[];
    hook.client.onState((s: string) => hook.states.push(s));
    const off = hook.client.onType("thinking.start", (ev: { seq: number }) => {
      off();
      hook.droppedAt = ev.seq;
      hook.dropped = hook.dropSocket();
    });
  });
  await send(page, "second");
  await expect.poll(() => page.evaluate(() => (window as any).__diminuendo.dropped)).toBe(true);
  await turnsDone(page, 2);
  const states = await page.evaluate(() => (window as any).__diminuendo.states as string[]);
  expect(states).toContain("reconnecting");
  expect(states[states.length - 1]).toBe("open");
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  // Most of the turn happened after the cut, so it came by the resume.
  const droppedAt = await page.evaluate(() => (window as any).__diminuendo.droppedAt as number);
  const last = Number(await page.getByTestId("transcript").getAttribute("data-last-seq"));
  expect(last - droppedAt).toBeGreaterThan(10);

  const second = page.getByTestId("turn").nth(1);
  await expect(second.getByTestId("user-message")).toHaveText("second");
  await expect(second.getByTestId("thinking")).toHaveCount(1);
  await expect(second.getByTestId("tool-card")).toHaveCount(1);
  await expect(second.getByTestId("terminal")).toHaveCount(1);
  await expect(second.getByTestId("assistant-text")).toHaveText(/^Done\. I saved your request to notes\.md \(iteration 2\)\.\s*$/);
  await expect(page.getByTestId("user-message")).toHaveText(["first", "second"]);
  await expectEverySeqOnce(page, id);
  await shot(page, info, "resumed");

  // The session goes on after the resume.
  await send(page, "third");
  await turnsDone(page, 3);
  await expectEverySeqOnce(page, id);
});

test("a prompt pending across a dropped socket is answered after the resume", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "guarded-agent", "resume while waiting");
  await send(page, "ask first");
  const prompt = page.getByTestId("prompt");
  await expect(prompt).toHaveAttribute("data-outcome", "pending");

  const dropped = await page.evaluate(() => {
    const hook = (window as any).__diminuendo;
    hook.states = [] as string[];
    hook.client.onState((s: string) => hook.states.push(s));
    return hook.dropSocket();
  });
  expect(dropped).toBe(true);
  await expect.poll(() => page.evaluate(() => (window as any).__diminuendo.states.join(","))).toMatch(/reconnecting.*open$/);
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");

  await prompt.getByTestId("prompt-approve").click();
  await turnsDone(page, 1);
  await expect(prompt).toHaveAttribute("data-outcome", "approved");
  await expect(page.getByTestId("tool-card")).toHaveAttribute("data-status", "done");
  await expect(page.getByTestId("prompt")).toHaveCount(1);
  await expectEverySeqOnce(page, id);
  await shot(page, info, "answered-after-resume");
});
