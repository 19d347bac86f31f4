import { expect, newSession, openApp, shot, test } from "./helpers";

const item = (page: import("@playwright/test").Page, id: string) => page.locator(`[data-testid="session-item"][data-session-id="${id}"]`);

test("sessions are renamed, searched, archived and deleted", async ({ page }, info) => {
  await openApp(page);
  const a = await newSession(page, "echo", `alpha ${Date.now()}`);
  const b = await newSession(page, "echo", `beta ${Date.now()}`);

  // Rename, and the new name survives a reload.
  await item(page, a).getByTestId("session-menu").click();
  await page.getByTestId("session-rename").click();
  await page.getByTestId("rename-input").fill("renamed alpha");
  await page.getByTestId("rename-save").click();
  await expect(item(page, a).getByTestId("session-name")).toHaveText("renamed alpha");
  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await expect(item(page, a).getByTestId("session-name")).toHaveText("renamed alpha");

  // Search filters the list.
  await page.getByTestId("session-search").fill("renamed alp");
  await expect(item(page, a)).toBeVisible();
  await expect(item(page, b)).toHaveCount(0);
  await shot(page, info, "search");
  await page.getByTestId("session-search").fill("");

  // Archive hides it unless archived sessions are shown.
  await item(page, b).getByTestId("session-menu").click();
  await page.getByTestId("session-archive").click();
  await expect(item(page, b)).toHaveCount(0);
  await page.getByTestId("show-archived").check();
  await expect(item(page, b)).toHaveAttribute("data-archived", "true");
  await page.getByTestId("show-archived").uncheck();

  // Delete, and it stays deleted.
  await item(page, a).getByTestId("session-open").click();
  await expect(page.getByTestId("session-title")).toHaveText("renamed alpha");
  await item(page, a).getByTestId("session-menu").click();
  await page.getByTestId("session-delete").click();
  await page.getByTestId("confirm-delete").click();
  await expect(item(page, a)).toHaveCount(0);
  await expect(page.getByTestId("session-view")).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await page.getByTestId("show-archived").check();
  await expect(item(page, b)).toBeVisible();
  await expect(item(page, a)).toHaveCount(0);
  await shot(page, info, "after-delete");
});
