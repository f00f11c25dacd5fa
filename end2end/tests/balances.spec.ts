import { test, expect } from "@playwright/test";
import {
  ADMIN_PASSWORD,
  BOSS,
  CLERK,
  collectProblems,
  hydrated,
  makeTenant,
  navLink,
  portalLogin,
  shoot,
  type Tenant,
} from "./support";

/**
 * The balances page: the operator recharges a tenant and sets its credit
 * limit; the tenant administrator recharges a user, is refused at the field
 * for a bad amount, and filters the ledger; a standard user sees only its own.
 */

let tenant: Tenant;

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "balances");
});

test("the operator recharges a tenant and sets its credit limit", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await navLink(page, "Balances").click();
  await expect(page.getByTestId("choose-tenant")).toBeVisible();
  await page.getByTestId("tenant-picker").selectOption(tenant.id);
  await expect(page).toHaveURL(/\/balances\?tenant=/);
  await hydrated(page);
  await expect(page.getByTestId("figure-balance")).toHaveText("0.00000 EUR");
  await page.getByTestId("recharge-form").getByTestId("field-balance").fill("25.5");
  await page.getByTestId("save-recharge").click();
  await expect(page.getByTestId("recharge-done")).toBeVisible();
  await expect(page.getByTestId("figure-balance")).toHaveText("25.50000 EUR");
  await page.getByTestId("credit-limit-form").getByTestId("field-credit_limit").fill("10");
  await page.getByTestId("save-credit-limit").click();
  await expect(page.getByTestId("figure-credit-limit")).toHaveText("10.00000 EUR");
  await expect(page.getByTestId("figure-available")).toHaveText("35.50000 EUR");
  // The ledger below: the recharge, who made it.
  const row = page.getByTestId("ledger-row").first();
  await expect(row.locator('[data-field="kind"]')).toHaveText("Recharge");
  await expect(row.locator('[data-field="amount"]')).toHaveText("25.50000 EUR");
  await expect(row.locator('[data-field="created_by"]')).toHaveText("admin");
  await shoot(page, "balances-operator");
  expect(problems).toEqual([]);
});

test("a tenant administrator recharges a user and filters the ledger", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await navLink(page, "Balances").click();
  await expect(page).toHaveURL(/\/balances$/);
  await hydrated(page);
  // The tenant's own account is the operator's to change.
  await expect(page.getByTestId("operator-only")).toBeVisible();
  await expect(page.getByTestId("recharge-form")).toHaveCount(0);
  // A user's account.
  await page.locator(`tr[data-account]`).filter({ hasText: CLERK.username }).getByRole("link").click();
  await expect(page).toHaveURL(/account=/);
  await expect(page.getByTestId("account-title")).toContainText(CLERK.username);
  // A refusal at its field.
  await page.getByTestId("recharge-form").getByTestId("field-balance").fill("-3");
  await page.getByTestId("save-recharge").click();
  await expect(page.getByTestId("recharge-form").getByTestId("error-balance")).toHaveText(
    "must not be negative",
  );
  await shoot(page, "balances-refused");
  await page.getByTestId("recharge-form").getByTestId("field-balance").fill("4.2");
  await page.getByTestId("save-recharge").click();
  await expect(page.getByTestId("figure-balance")).toHaveText("4.20000 EUR");
  await expect(page.getByTestId("ledger-row")).toHaveCount(1);
  await expect(page.getByTestId("ledger-row").locator('[data-field="created_by"]')).toHaveText(
    BOSS.username,
  );
  // Filters: a kind with no rows, then a day range that holds today.
  await page.getByTestId("field-kind").selectOption("CALL_CHARGE");
  await page.getByTestId("apply-ledger-filters").click();
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("field-kind").selectOption("");
  const today = new Date().toISOString().slice(0, 10);
  await page.getByTestId("field-from").fill(today);
  await page.getByTestId("field-to").fill(today);
  await page.getByTestId("apply-ledger-filters").click();
  await expect(page.getByTestId("ledger-row")).toHaveCount(1);
  await shoot(page, "balances-user");
  expect(problems).toEqual([]);
});

test("a standard user sees only its own account", async ({ page }) => {
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await expect(navLink(page, "Balances")).toHaveCount(0);
  await navLink(page, "My balance").click();
  await expect(page).toHaveURL(/\/balances$/);
  await hydrated(page);
  // The tenant administrator's recharge above, and nobody else's account.
  await expect(page.getByTestId("figure-balance")).toHaveText("4.20000 EUR");
  await expect(page.getByTestId("accounts")).toHaveCount(0);
  await expect(page.getByTestId("recharge-form")).toHaveCount(0);
  await expect(page.getByTestId("ledger-row")).toHaveCount(1);
});
