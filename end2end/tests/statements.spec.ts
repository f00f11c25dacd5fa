import { test, expect, type Page } from "@playwright/test";
import {
  CLERK,
  BOSS,
  apiLogin,
  collectProblems,
  download,
  hydrated,
  logout,
  makeTenant,
  openPage,
  portalLogin,
  shoot,
  type Headers,
  type Tenant,
} from "./support";

/**
 * Statements: the tenant's administrator sets the statement settings (a
 * tax) on the billing page, refused at the field first; the PBX posts
 * calls; the statements page lists the accounts' statements and a
 * statement shows the figures of the ledger (checked against the API's
 * balance and calls), downloads as CSV and prints on an A4 page without
 * the navigation. A standard user sees only its own statement.
 */

let tenant: Tenant;
let clerk: Headers;
/** Where the screenshots and the PDF go (as support.ts's `shoot`). */
const SHOTS = process.env.RATEDECK_E2E_SHOTS ?? "../target/screenshots";

function cdr(callId: string, callee: string, duration: number) {
  return {
    call_id: callId,
    caller: "200",
    callee,
    direction: "OUTBOUND_CALL",
    started_at: "2026-11-20T10:00:00Z",
    duration,
    status_code: 200,
  };
}

/** An amount as the pages write it: five decimals and the currency. */
const eur = (value: number | string) => `${Number(value).toFixed(5)} EUR`;

/** Integer units of 1/100000 of an exact amount the API answered. */
const units = (value: number | string) => BigInt(Math.round(Number(value) * 100000));

/** Units as the pages write them. */
function fixed(u: bigint): string {
  const sign = u < 0n ? "-" : "";
  const abs = u < 0n ? -u : u;
  const whole = abs / 100000n;
  const fraction = (abs % 100000n).toString().padStart(5, "0");
  return `${sign}${whole}.${fraction} EUR`;
}

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "statements");
  const boss = tenant.boss;
  for (const [prefix, description] of [
    ["44", "United Kingdom"],
    ["33", "France"],
  ]) {
    const rate = await request.post("/api/call_rates", {
      headers: boss,
      data: {
        prefix,
        type: "INTERNATIONAL",
        free_seconds: 0,
        grace_period: 0,
        interval_1: 60,
        interval_n: 30,
        connect_fee: 0.05,
        postcall_surcharge: 0,
        price_1: 0.1,
        price_n: 0.1,
        description,
      },
    });
    expect(rate.status(), await rate.text()).toBe(200);
  }
  const billing = await request.post("/api/tenant/billing", {
    headers: boss,
    data: { enabled: true },
  });
  expect(billing.status(), await billing.text()).toBe(200);
  const recharged = await request.post(`/api/tenant/balance?tenant_id=${tenant.id}`, {
    headers: tenant.root,
    data: { balance: 50 },
  });
  expect(recharged.status(), await recharged.text()).toBe(200);
  const users = await (await request.get("/api/users", { headers: boss })).json();
  const clerkUser = users.items.find((u: { username: string }) => u.username === CLERK.username);
  const own = await request.post(`/api/users/${clerkUser.id}/balance`, {
    headers: boss,
    data: { balance: 20 },
  });
  expect(own.status(), await own.text()).toBe(200);
  clerk = await apiLogin(request, CLERK.username, CLERK.password, tenant.domain);
});

/** The labels of the top bar's navigation links. */
async function navLabels(page: Page): Promise<string[]> {
  return (await page.getByRole("banner").locator("nav a").allTextContents()).map((t) => t.trim());
}

test("an administrator sets a tax, reads a statement of the ledger and prints it", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await hydrated(page);

  // The statement settings, on the billing page: refused at the field, then saved.
  await openPage(page, "Billing", /\/billing$/);
  const form = page.getByTestId("statement-settings-form");
  await expect(form.getByTestId("field-cycle")).toHaveValue("MONTHLY");
  await form.getByTestId("field-cycle").selectOption("WEEKLY");
  await form.getByTestId("field-cycle_day").fill("9");
  await form.getByTestId("field-tax_rate").fill("20");
  await form.getByTestId("save-statement-settings").click();
  await expect(form.getByTestId("error-cycle_day")).toContainText("from 1 (Monday) to 7 (Sunday)");
  await expect(form.getByTestId("error-tax_name")).toContainText("is required when there is a tax rate");
  await shoot(page, "statement-settings-refused");
  await form.getByTestId("field-cycle").selectOption("MONTHLY");
  await form.getByTestId("field-cycle_day").fill("1");
  await form.getByTestId("field-tax_name").fill("VAT");
  await form.getByTestId("save-statement-settings").click();
  await expect(form.getByTestId("statement-settings-saved")).toBeVisible();
  await expect(form.getByTestId("error-cycle_day")).toBeEmpty();
  const settings = await (
    await request.get("/api/tenant/statement_settings", { headers: tenant.boss })
  ).json();
  expect(settings).toEqual({
    cycle: "MONTHLY",
    cycle_day: 1,
    tax_name: "VAT",
    tax_rate: 20,
    tax_included: false,
  });
  await shoot(page, "statement-settings");

  // The PBX posts calls, charged to the tenant's account.
  const posted = await request.post("/api/cdrs", {
    headers: tenant.boss,
    data: [
      cdr("st-1", "442071230001", 90),
      cdr("st-2", "442071230002", 150),
      cdr("st-3", "33142270000", 45),
    ],
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).rated).toBe(3);
  const calls = await (await request.get("/api/cdrs", { headers: tenant.boss })).json();
  const charged = calls.items.reduce((sum: bigint, c: { cost: number }) => sum + units(c.cost), 0n);
  const ukCharged = calls.items
    .filter((c: { callee: string }) => c.callee.startsWith("44"))
    .reduce((sum: bigint, c: { cost: number }) => sum + units(c.cost), 0n);
  const balance = await (
    await request.get("/api/tenant/balance", { headers: tenant.boss })
  ).json();
  // 20% on top, rounded half up once.
  const tax = (charged * 20n * 2n + 100n) / 200n;

  // The statements: the tenant's account and the user's, numbered.
  await openPage(page, "Statements", /\/statements$/);
  const rows = page.getByTestId("statement-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "tenant" })).toHaveCount(1);
  await expect(rows.filter({ hasText: CLERK.username })).toHaveCount(1);
  await shoot(page, "statements");
  // Only the tenant's account, by the filter.
  await page.getByTestId("statement-filters").getByTestId("field-account").selectOption("tenant");
  await page.getByTestId("apply-statement-filters").click();
  await expect(page).toHaveURL(/account=tenant/);
  await expect(rows).toHaveCount(1);
  await rows.first().getByTestId("statement-link").click();
  await expect(page).toHaveURL(/\/statements\/[A-Za-z0-9_-]+/);
  await hydrated(page);

  // Its figures are the ledger's.
  const sheet = page.getByTestId("statement");
  await expect(sheet).toHaveAttribute("data-status", "OPEN");
  await expect(page.getByTestId("statement-tenant")).toHaveText(`statements ${tenant.domain.split("-")[1].split(".")[0]}`);
  await expect(page.getByTestId("statement-number")).toHaveText(/^No\. [12]$/);
  await expect(page.getByTestId("statement-period")).toHaveText(/^\d{4}-\d{2}-01 – \d{4}-\d{2}-\d{2}$/);
  await expect(page.getByTestId("total-opening")).toHaveText("0.00000 EUR");
  await expect(page.getByTestId("total-recharges")).toHaveText("50.00000 EUR");
  await expect(page.getByTestId("total-call-charges")).toHaveText(fixed(-charged));
  await expect(page.getByTestId("total-closing")).toHaveText(eur(balance.balance));
  await expect(page.getByTestId("total-charges")).toHaveText(fixed(charged));
  await expect(page.getByTestId("tax-label")).toHaveText("VAT 20%");
  await expect(page.getByTestId("total-tax")).toHaveText(fixed(tax));
  await expect(page.getByTestId("total-total")).toHaveText(fixed(charged + tax));
  const uk = page.getByTestId("lines-destinations").locator("tr[data-item='44']");
  await expect(uk).toContainText("44 United Kingdom");
  await expect(uk.locator("[data-field='amount']")).toHaveText(fixed(-ukCharged));
  await expect(page.getByTestId("lines-recharges")).toContainText("recharge by admin");

  // Its CSV: the same totals.
  const csv = await download(page, "statement-csv");
  expect(csv.name).toMatch(/^statement-\d+\.csv$/);
  const lines = csv.text.trim().split("\n");
  expect(lines[0]).toBe(
    "number,account,period_start,period_end,status,currency,section,item,description,at,calls,seconds,amount,credit_limit",
  );
  expect(lines.some((l) => l.includes(`,TOTAL,CLOSING_BALANCE,closing balance,,0,0,${Number(balance.balance).toFixed(5)},`))).toBe(true);
  await shoot(page, "statement");

  // Printed: an A4 page with the statement alone.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("banner")).toBeHidden();
  await expect(page.getByTestId("print")).toBeHidden();
  await expect(page.getByTestId("back-to-statements")).toBeHidden();
  await expect(page.getByTestId("statement-number")).toBeVisible();
  await expect(page.getByTestId("total-closing")).toBeVisible();
  // 210 mm at 96 dpi, less the page's margins.
  await page.setViewportSize({ width: 703, height: 1016 });
  await page.screenshot({ path: `${SHOTS}/statement-print.png`, fullPage: true });
  await page.pdf({ path: `${SHOTS}/statement.pdf`, format: "A4", preferCSSPageSize: true });
  await page.emulateMedia({ media: "screen" });
  expect(problems).toEqual([]);
});

test("a standard user sees only its own statement", async ({ page, request }) => {
  const problems = collectProblems(page);
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await hydrated(page);
  await expect.poll(() => navLabels(page)).toContain("My statements");
  await openPage(page, "My statements", /\/statements$/);
  const rows = page.getByTestId("statement-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(CLERK.username);
  await expect(page.getByTestId("statement-filters").getByTestId("field-account")).toHaveCount(0);
  await rows.first().getByTestId("statement-link").click();
  await hydrated(page);
  await expect(page.getByTestId("statement-account")).toHaveText(CLERK.username);
  await expect(page.getByTestId("total-recharges")).toHaveText("20.00000 EUR");
  const own = await (await request.get("/api/user/balance", { headers: clerk })).json();
  await expect(page.getByTestId("total-closing")).toHaveText(eur(own.balance));
  await shoot(page, "statement-own");

  // The tenant's statement is not its to read, whatever it asks.
  const all = await (await request.get("/api/statements", { headers: tenant.boss })).json();
  const theirs = all.items.find((s: { user_id: string | null }) => s.user_id === null);
  await page.goto(`/statements/${theirs.id}`);
  await hydrated(page);
  await expect(page.getByTestId("statement-error")).toContainText("not found");
  const refused = await request.get(`/api/statements/${theirs.id}`, { headers: clerk });
  expect(refused.status()).toBe(404);
  await logout(page);
  expect(problems).toEqual([]);
});
