import { expect, openApp, shot, test } from "./helpers";

test("an owner manages the tenant's members", async ({ page }, info) => {
  await openApp(page);
  await page.getByTestId("nav-members").click();
  await expect(page.getByTestId("members-page")).toBeVisible();

  const userId = `web-user-${Date.now()}`;
  await page.getByTestId("member-add-id").fill(userId);
  await page.getByTestId("member-add-email").fill("new.member@example.com");
  await page.getByTestId("member-add").click();
  const row = page.locator(`[data-testid="member-row"][data-user-id="${userId}"]`);
  await expect(row).toContainText("new.member@example.com");
  await expect(row.getByTestId("member-role")).toHaveValue("developer");

  await row.getByTestId("member-role").click();
  await page.getByRole("option", { name: "viewer", exact: true }).click();
  await expect(row.getByTestId("member-role")).toHaveValue("viewer");
  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await page.getByTestId("nav-members").click();
  await expect(row.getByTestId("member-role")).toHaveValue("viewer");
  await shot(page, info, "members");

  await row.getByTestId("member-remove").click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("members-error")).toHaveCount(0);
});
