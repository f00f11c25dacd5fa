import { test, expect, type Page } from "@playwright/test";
import {
  CLERK,
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
 * A tenant's user on its own: the PBX (the tenant administrator's API login)
 * posts calls through the REST API; the user logs in and sees its balance,
 * its calls with their cost, its ledger, downloads its CSV and is quoted a
 * call with the breakdown, and the navigation shows it nothing else.
 */

let tenant: Tenant;
let clerk: Headers;
const NEIGHBOUR = { username: "neighbour", password: "neighbour-password-1" };

function cdr(callId: string, caller: string, callee: string, day: number, duration: number) {
  return {
    call_id: callId,
    caller,
    callee,
    direction: "OUTBOUND_CALL",
    started_at: `2026-01-0${day}T10:00:00Z`,
    duration,
    status_code: 200,
  };
}

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "self");
  const boss = tenant.boss;
  const made = await request.post("/api/users", {
    headers: boss,
    data: { ...NEIGHBOUR, role: "StandardUser" },
  });
  expect(made.status(), await made.text()).toBe(200);
  const rate = await request.post("/api/call_rates", {
    headers: boss,
    data: {
      prefix: "44",
      type: "INTERNATIONAL",
      free_seconds: 0,
      grace_period: 0,
      interval_1: 60,
      interval_n: 30,
      connect_fee: 0.05,
      postcall_surcharge: 0,
      price_1: 0.1,
      price_n: 0.1,
      description: "United Kingdom",
    },
  });
  expect(rate.status(), await rate.text()).toBe(200);
  const billing = await request.post("/api/tenant/billing", {
    headers: boss,
    data: { enabled: true, account: "USER" },
  });
  expect(billing.status(), await billing.text()).toBe(200);
  const users = await (await request.get("/api/users", { headers: boss })).json();
  for (const user of users.items) {
    if (user.role === "StandardUser") {
      const recharged = await request.post(`/api/users/${user.id}/balance`, {
        headers: boss,
        data: { balance: 20 },
      });
      expect(recharged.status(), await recharged.text()).toBe(200);
    }
  }
  const posted = await request.post("/api/cdrs", {
    headers: boss,
    data: [
      cdr("mine-1", CLERK.username, "442071230001", 3, 90),
      cdr("mine-2", CLERK.username, "442071230002", 5, 150),
      cdr("theirs", NEIGHBOUR.username, "442071230003", 4, 600),
    ],
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).rated).toBe(3);
  clerk = await apiLogin(request, CLERK.username, CLERK.password, tenant.domain);
});

/** The labels of the top bar's navigation links. */
async function navLabels(page: Page): Promise<string[]> {
  return (await page.getByRole("banner").locator("nav a").allTextContents()).map((t) => t.trim());
}

test("a user sees its balance, calls, ledger and CSV, and is quoted a call", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await hydrated(page);
  // Only what is its own.
  await expect
    .poll(() => navLabels(page))
    .toEqual([
      "Home",
      "My balance",
      "My calls",
      "My statements",
      "My spend",
      "Live calls",
      "Call prices",
      "My account",
    ]);

  // Its balance: the recharge less its two calls, in the account's currency.
  const balance = await (await request.get("/api/user/balance", { headers: clerk })).json();
  const figure = `${Number(balance.balance).toFixed(5)} EUR`;
  expect(Number(balance.balance)).toBeLessThan(20);
  await openPage(page, "My balance", /\/balances$/);
  await expect(page.getByTestId("account-title")).toContainText(`${CLERK.username} (your account)`);
  await expect(page.getByTestId("figure-balance")).toHaveText(figure);
  await expect(page.getByTestId("figure-credit-limit")).toHaveText("0.00000 EUR");
  await expect(page.getByTestId("figure-held")).toHaveText("0.00000 EUR");
  await expect(page.getByTestId("figure-available")).toHaveText(figure);
  await expect(page.getByTestId("recharge-form")).toHaveCount(0);
  await expect(page.getByTestId("accounts")).toHaveCount(0);
  // Its ledger: the recharge and the two charges, newest first.
  const ledger = page.getByTestId("ledger-row");
  await expect(ledger).toHaveCount(3);
  await expect(ledger.locator('[data-field="kind"]')).toHaveText([
    "Call charge",
    "Call charge",
    "Recharge",
  ]);
  await expect(ledger.first().locator('[data-field="balance_after"]')).toHaveText(figure);
  await shoot(page, "self-balance");

  // Its calls with their cost; the neighbour's are not there.
  await openPage(page, "My calls", /\/cdrs$/);
  const rows = page.getByTestId("cdr-row");
  await expect(rows).toHaveCount(2);
  await expect(page.locator('tr[data-call-id="theirs"]')).toHaveCount(0);
  // 90 s: 0.05 + 0.10 for the first minute + 0.05 for a block of 30 s.
  await expect(page.locator('tr[data-call-id="mine-1"] [data-field="cost"]')).toHaveText(
    "0.20000 EUR",
  );
  await expect(page.getByTestId("rerate")).toHaveCount(0);
  // Date range and number search.
  await page.getByTestId("field-from").fill("2026-01-04");
  await page.getByTestId("field-to").fill("2026-01-05");
  await page.getByTestId("apply-filters").click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-call-id", "mine-2");
  await page.getByTestId("field-from").fill("");
  await page.getByTestId("field-to").fill("");
  await page.getByTestId("field-search").fill("230001");
  await page.getByTestId("apply-filters").click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-call-id", "mine-1");
  await page.getByTestId("field-search").fill("");
  await page.getByTestId("apply-filters").click();
  await expect(rows).toHaveCount(2);
  await shoot(page, "self-calls");
  // The CSV: its own calls with their cost.
  const csv = await download(page, "export-cdrs");
  expect(csv.name).toBe("cdrs.csv");
  const lines = csv.text.trim().split("\n");
  expect(lines).toHaveLength(3);
  expect(csv.text).toContain("mine-1");
  expect(csv.text).toContain("mine-2");
  expect(csv.text).not.toContain("theirs");
  expect(lines.find((l) => l.includes("mine-1"))).toContain(",RATED,0.20000,EUR,44,");

  // What a call costs it, with the breakdown.
  await openPage(page, "Call prices", /\/prices$/);
  await page.getByTestId("field-callee").fill("442079460000");
  await page.getByTestId("field-duration").fill("two minutes");
  await page.getByTestId("get-quote").click();
  await expect(page.getByTestId("error-duration")).toContainText("whole number of seconds");
  await page.getByTestId("field-duration").fill("150");
  await page.getByTestId("get-quote").click();
  await expect(page.getByTestId("error-duration")).toHaveText("");
  // 0.05 + 0.10 + three blocks of 30 s at 0.10 a minute.
  await expect(page.getByTestId("quote-amount")).toHaveText("0.30000 EUR");
  const quoted = await request.post("/api/user/quote", {
    headers: clerk,
    data: { callee: "442079460000", duration: 150 },
  });
  expect(Number((await quoted.json()).amount).toFixed(5)).toBe("0.30000");
  const breakdown = page.getByTestId("quote-breakdown");
  await expect(breakdown).toContainText("Matched prefix");
  await expect(breakdown).toContainText("44");
  await expect(breakdown).toContainText("Billable seconds");
  await expect(breakdown).toContainText("Connect fee");
  await expect(breakdown).toContainText("0.05 EUR");
  await shoot(page, "self-prices");
  // A number no rate matches is refused above the form.
  await page.getByTestId("field-callee").fill("3312345");
  await page.getByTestId("get-quote").click();
  await expect(page.getByTestId("quote-error")).toContainText("no rate");

  // The tenant's pages are refused, whatever the address bar says.
  await page.goto("/rates");
  await expect(page.getByTestId("list-error")).toContainText("administrators");

  // It changes its own password: a wrong current one is told at its field;
  // then the new one is the one that logs in.
  await openPage(page, "My account", /\/account$/);
  await page.getByTestId("field-current_password").fill("not-my-password");
  await page.getByTestId("field-new_password").fill("clerk-password-2");
  await page.getByTestId("save-password").click();
  await expect(page.getByTestId("error-current_password")).toHaveText(
    "is not your current password",
  );
  await page.getByTestId("field-current_password").fill(CLERK.password);
  await page.getByTestId("save-password").click();
  await expect(page.getByTestId("notice")).toBeVisible();
  await logout(page);
  const old = await request.post("/api/login", {
    data: { username: CLERK.username, password: CLERK.password, domain: tenant.domain },
  });
  expect(old.status()).toBe(401);
  await portalLogin(page, CLERK.username, "clerk-password-2", tenant.domain);
  await openPage(page, "My balance", /\/balances$/);
  await logout(page);
  expect(problems).toEqual([]);
});
