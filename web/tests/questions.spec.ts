import { expect, expectEverySeqOnce, newSession, openApp, send, shot, test, turnsDone } from "./helpers";

test("an asking agent's questions are answered in place and the reply uses the answers; a dismissal ends the next turn", async ({ page }, info) => {
  await openApp(page);
  const id = await newSession(page, "asking-agent", "questions");

  // Turn 1: the questions wait for answers, typed into the card.
  await send(page, "ask me");
  const first = page.getByTestId("turn").nth(0);
  const prompt1 = first.getByTestId("prompt");
  await expect(prompt1).toHaveAttribute("data-outcome", "pending");
  await expect(prompt1).toContainText("Question");
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "waiting");
  const inputs = prompt1.getByTestId("prompt-answer-input");
  await expect(inputs).toHaveCount(2);
  await prompt1.getByLabel("What should the note be about?").fill("the tides");
  await prompt1.getByLabel("Which tone: formal or casual?").fill("casual");
  await shot(page, info, "questions-pending");
  await prompt1.getByTestId("prompt-submit").click();
  await turnsDone(page, 1);
  await expect(prompt1).toHaveAttribute("data-outcome", "answered");
  await expect(prompt1.getByTestId("prompt-answer-input")).toHaveCount(0);
  await expect(prompt1.getByTestId("prompt-answer")).toHaveText(["What should the note be about? the tides", "Which tone: formal or casual? casual"]);
  await expect(first.getByTestId("assistant-text")).toHaveText("Thank you. topic: the tides. tone: casual.");
  await expect(first.getByTestId("stop-reason")).toHaveText("end_turn");

  // Turn 2: dismissed, the agent leaves it there.
  await send(page, "ask again");
  const second = page.getByTestId("turn").nth(1);
  const prompt2 = second.getByTestId("prompt");
  await expect(prompt2).toHaveAttribute("data-outcome", "pending");
  await prompt2.getByTestId("prompt-dismiss").click();
  await turnsDone(page, 2);
  await expect(prompt2).toHaveAttribute("data-outcome", "dismissed");
  await expect(prompt2.getByTestId("prompt-answer")).toHaveText(["What should the note be about? —", "Which tone: formal or casual? —"]);
  await expect(second.getByTestId("assistant-text")).toHaveText("Understood, I will leave it there.");
  await expect(page.getByTestId("session-state")).toHaveAttribute("data-state", "ready");
  await expectEverySeqOnce(page, id);
  await shot(page, info, "answered-then-dismissed");
});
