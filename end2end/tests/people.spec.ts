import { test, expect, type Page } from "@playwright/test";
import { collectProblems, hydrated } from "./support";

/**
 * Tenants and users from the browser alone: a system administrator creates
 * a tenant and its administrator; the administrator logs in and creates a
 * user; a SIP domain already used is refused at its field; suspending the
 * tenant makes the administrator's next login show the suspended message.
 * Screenshots of each page at 1280 and 390 px go to target/e2e/screenshots.
 */

const ADMIN_PASSWORD = process.env.RATEDECK_ADMIN_PASSWORD ?? "admin-password-123";
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const DOMAIN = `people-${RUN}.e2e.example`;
const TENANT_NAME = `People ${RUN}`;
const BOSS = { username: "chief", password: "chief-password-1" };
const CLERK = { username: "desk", password: "desk-password-1" };
const SHOTS = "../target/e2e/screenshots";

async function loginForm(page: Page, username: string, password: string, domain = ""): Promise<void> {
  await page.goto("/login");
  await hydrated(page);
  await page.getByTestId("username").fill(username);
  await page.getByTestId("password").fill(password);
  await page.getByTestId("domain").fill(domain);
  await page.getByTestId("login").click();
}

async function portalLogin(page: Page, username: string, password: string, domain = ""): Promise<void> {
  await loginForm(page, username, password, domain);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("who")).toContainText(username);
}

async function logout(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
}

const navLink = (page: Page, name: string) =>
  page.getByRole("banner").getByRole("link", { name, exact: true });

/** The page at 1280 and at 390 px wide, full length. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test("an operator sets up a tenant, its administrator its users, and a suspension locks them out", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);

  // The operator creates the tenant.
  await navLink(page, "Tenants").click();
  await expect(page).toHaveURL(/\/tenants$/);
  await hydrated(page);
  await page.getByTestId("new-tenant").click();
  await page.getByTestId("field-name").fill(TENANT_NAME);
  await page.getByTestId("field-sip_domain").fill(DOMAIN);
  await page.getByTestId("field-currency").fill("EUR");
  await page.getByTestId("save-tenant").click();
  await expect(page.getByTestId("notice")).toHaveText("The tenant was saved.");
  await page.getByTestId("search").fill(RUN);
  await page.getByTestId("search").press("Enter");
  const tenantRow = page.locator(`tr[data-domain="${DOMAIN}"]`);
  await expect(tenantRow).toHaveCount(1);
  await expect(tenantRow.getByTestId("status")).toHaveText("active");
  await expect(tenantRow.locator("td[data-field=currency]")).toHaveText("EUR");

  // A SIP domain already used is refused at its field.
  await page.getByTestId("new-tenant").click();
  await page.getByTestId("field-name").fill("Copy");
  await page.getByTestId("field-sip_domain").fill(DOMAIN.toUpperCase());
  await page.getByTestId("save-tenant").click();
  await expect(page.getByTestId("error-sip_domain")).toHaveText("is already used by another tenant");
  await expect(page.getByTestId("tenant-form")).toBeVisible();
  await shoot(page, "tenants-refused-domain");
  await page.getByTestId("cancel").click();
  await shoot(page, "tenants");

  // ... and its administrator.
  await navLink(page, "Users").click();
  await expect(page).toHaveURL(/\/users$/);
  await hydrated(page);
  await page.getByTestId("tenant-picker").selectOption({ label: `${TENANT_NAME} (${DOMAIN})` });
  await expect(page).toHaveURL(/\/users\?tenant=/);
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("new-user").click();
  await page.getByTestId("field-username").fill(BOSS.username);
  await page.getByTestId("field-password").fill(BOSS.password);
  await page.getByTestId("field-role").selectOption("Admin");
  await page.getByTestId("save-user").click();
  await expect(page.getByTestId("notice")).toHaveText("The user was saved.");
  await expect(page.locator(`tr[data-username="${BOSS.username}"] td[data-field=role]`)).toHaveText("Admin");
  await logout(page);

  // The administrator logs in and creates a user.
  await portalLogin(page, BOSS.username, BOSS.password, DOMAIN);
  await expect(navLink(page, "Tenants")).toHaveCount(0);
  await navLink(page, "Users").click();
  await hydrated(page);
  await page.getByTestId("new-user").click();
  await page.getByTestId("field-username").fill(CLERK.username);
  await page.getByTestId("field-password").fill("short");
  await page.getByTestId("save-user").click();
  await expect(page.getByTestId("error-password")).toHaveText("must be at least 8 characters");
  await page.getByTestId("field-password").fill(CLERK.password);
  await page.getByTestId("save-user").click();
  await expect(page.getByTestId("notice")).toHaveText("The user was saved.");
  const clerkRow = page.locator(`tr[data-username="${CLERK.username}"]`);
  await expect(clerkRow.locator("td[data-field=role]")).toHaveText("StandardUser");
  await clerkRow.getByTestId("disable").click();
  await expect(clerkRow.getByTestId("status")).toHaveText("disabled");
  await expect(page.getByTestId("notice")).toContainText("is disabled");
  await clerkRow.getByTestId("reset-password").click();
  await expect(page.getByTestId("reset-form")).toBeVisible();
  await shoot(page, "users");
  await page.getByTestId("reset-form").getByRole("button", { name: "Cancel" }).click();

  // Any user changes its own password; a wrong current one is told at its field.
  await navLink(page, "My account").click();
  await hydrated(page);
  await page.getByTestId("field-current_password").fill("not-my-password");
  await page.getByTestId("field-new_password").fill("chief-password-2");
  await page.getByTestId("save-password").click();
  await expect(page.getByTestId("error-current_password")).toHaveText("is not your current password");
  await shoot(page, "account");
  await logout(page);

  // The operator suspends the tenant, after a confirmation.
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await page.goto(`/tenants?search=${RUN}`);
  await hydrated(page);
  await tenantRow.getByTestId("suspend").click();
  await tenantRow.getByTestId("confirm-status").click();
  await expect(tenantRow.getByTestId("status")).toHaveText("suspended");
  await expect(page.getByTestId("notice")).toContainText("is suspended");
  await shoot(page, "tenants-suspended");
  await logout(page);

  // The administrator's next login says why it is refused.
  await loginForm(page, BOSS.username, BOSS.password, DOMAIN);
  await expect(page.getByTestId("login-error")).toContainText("TENANT_SUSPENDED");
  await expect(page).toHaveURL(/\/login$/);
  await shoot(page, "login-suspended");

  expect(problems).toEqual([]);
});
