import { expect, expectEverySeqOnce, newSession, openApp, send, seqs, shot, test, turnsDone, watch } from "./helpers";

test("two tabs on one session show the same stream", async ({ context }, info) => {
  const one = await context.newPage();
  const two = await context.newPage();
  const checks = [watch(one), watch(two)];
  await openApp(one);
  const id = await newSession(one, "guarded-agent", "two tabs");
  await openApp(two, `#session=${id}`);
  await expect(two.getByTestId("session-title")).toHaveText("two tabs");

  // A turn started in one tab streams to both; the other answers its prompt.
  await send(one, "from tab one");
  await expect(two.getByTestId("prompt")).toHaveAttribute("data-outcome", "pending");
  await two.getByTestId("prompt-approve").click();
  for (const p of [one, two]) {
    await turnsDone(p, 1);
    await expect(p.getByTestId("prompt")).toHaveAttribute("data-outcome", "approved");
    await expect(p.getByTestId("user-message")).toHaveText(["from tab one"]);
    await expectEverySeqOnce(p, id);
  }
  expect(await seqs(one)).toEqual(await seqs(two));
  const text = (p: typeof one) => p.getByTestId("transcript").innerText();
  expect(await text(one)).toEqual(await text(two));

  // And back the other way.
  await send(two, "from tab two");
  await one.getByTestId("turn").nth(1).getByTestId("prompt-deny").click();
  for (const p of [one, two]) await turnsDone(p, 2);
  expect(await seqs(one)).toEqual(await seqs(two));
  expect(await text(one)).toEqual(await text(two));
  await one.screenshot({ path: info.outputPath("tab-one.png"), fullPage: true });
  await shot(two, info, "tab-two");
  for (const check of checks) check();
});
