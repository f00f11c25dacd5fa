import { test, expect, type APIRequestContext } from "@playwright/test";
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
 * The live calls page and the home overview: the PBX authorises a call
 * online through the REST API and the tenant administrator sees it appear
 * on the page (which asks again by itself), then sees it go when the call
 * is terminated; Home shows the account, today's calls and their cost, the
 * live calls and the last deck import, each leading to its page.
 */

let tenant: Tenant;

const HEADER =
  "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description";

/** An amount of the API (a JSON number) as the portal shows it. */
const shown = (amount: number, currency: string) => `${amount.toFixed(5)} ${currency}`;

async function tenantBalance(request: APIRequestContext): Promise<number> {
  const answer = await request.get("/api/tenant/balance", { headers: tenant.boss });
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).balance;
}

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "live");
  const imported = await request.post("/api/call_rates/import?mode=merge", {
    headers: { ...tenant.boss, "Content-Type": "text/csv" },
    data: `${HEADER}\n44,INTERNATIONAL,0,0,60,30,0.05,0,0.1,0.1,United Kingdom\n49,MOBILE,0,0,60,60,0,0,0.2,0.2,Germany mobile\n`,
  });
  expect(imported.status(), await imported.text()).toBe(200);
  const recharged = await request.post(`/api/tenant/balance?tenant_id=${tenant.id}`, {
    headers: tenant.root,
    data: { balance: 20 },
  });
  expect(recharged.status(), await recharged.text()).toBe(200);
});

test("a call authorised online appears on the live calls page and goes when it ends", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await navLink(page, "Live calls").click();
  await expect(page).toHaveURL(/\/live-calls$/);
  await hydrated(page);
  // Charged offline: the page says why no call shows, and where to change it.
  await expect(page.getByTestId("not-online")).toBeVisible();
  await expect(page.getByTestId("empty")).toHaveText("No calls in progress now.");
  await expect(page.getByTestId("billing-link")).toHaveAttribute("href", "/billing");
  await shoot(page, "live-calls-offline");

  const online = await request.post("/api/tenant/billing", {
    headers: tenant.boss,
    data: { enabled: true, type: "ONLINE" },
  });
  expect(online.status(), await online.text()).toBe(200);
  const callId = `live-${Date.now().toString(36)}`;
  const granted = await request.post("/api/charging/authorize", {
    headers: tenant.boss,
    data: { call_id: callId, caller: "101", callee: "442079460000" },
  });
  expect(granted.status(), await granted.text()).toBe(200);
  const grant = await granted.json();

  // No reload: the page asks again by itself.
  const row = page.locator(`[data-testid="live-call-row"][data-call-id="${callId}"]`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("not-online")).toHaveCount(0);
  await expect(row.locator('[data-field="caller"]')).toHaveText("101");
  await expect(row.locator('[data-field="callee"]')).toHaveText("442079460000");
  await expect(row.locator('[data-field="held"]')).toHaveText(shown(grant.held, grant.currency));
  await expect(row.locator('[data-field="account"]')).toHaveText("Tenant account");
  await expect(row.locator('[data-field="seconds_left"]')).toContainText(/\d+ (h|min|s)/);
  await expect(page.getByTestId("live-count")).toHaveText("1");
  await expect(page.getByTestId("live-held")).toHaveText(shown(grant.held, grant.currency));
  await shoot(page, "live-calls");

  const ended = await request.post(`/api/charging/${callId}/terminate`, {
    headers: tenant.boss,
    data: { duration: 42 },
  });
  expect(ended.status(), await ended.text()).toBe(200);
  await expect(row).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId("live-count")).toHaveText("0");
  await expect(page.getByTestId("live-held")).toHaveText("nothing");
  await expect(page.getByTestId("empty")).toHaveText("No calls in progress now.");

  // Away from the page, it asks no more.
  await navLink(page, "Home").click();
  await expect(page.getByTestId("overview")).toBeVisible();
  let asked = 0;
  page.on("request", (r) => {
    if (r.url().includes("/portal/fn/list_live_calls")) asked += 1;
  });
  await page.waitForTimeout(6_500);
  expect(asked).toBe(0);
  expect(problems).toEqual([]);
});

test("Home shows today's calls, the balance, live calls and the last import", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  const callId = `home-${Date.now().toString(36)}`;
  const posted = await request.post("/api/cdrs", {
    headers: tenant.boss,
    data: {
      call_id: callId,
      caller: "101",
      callee: "4930123456",
      direction: "OUTBOUND_CALL",
      started_at: new Date(Date.now() - 5_000).toISOString().replace(/\.\d+Z$/, "Z"),
      duration: 90,
      status_code: 200,
    },
  });
  expect(posted.status(), await posted.text()).toBe(200);
  const calls = await request.get(`/api/cdrs?filter=call_id eq '${callId}'`, { headers: tenant.boss });
  const cost: number = (await calls.json()).items[0].cost;
  expect(cost).toBeGreaterThan(0);
  const balance = await tenantBalance(request);

  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await hydrated(page);
  await expect(page.getByTestId("overview-balance-figure")).toHaveText(shown(balance, "EUR"));
  await expect(page.getByTestId("overview-today-figure")).toHaveText("1 call");
  await expect(page.getByTestId("overview-today-sub")).toHaveText(`Spent ${shown(cost, "EUR")}`);
  await expect(page.getByTestId("overview-live-figure")).toHaveText("0 calls");
  await expect(page.getByTestId("overview-import-figure")).toHaveText("2 rates");
  await expect(page.getByTestId("overview-import-sub")).toContainText("2 added");
  await shoot(page, "home-admin");

  // Each figure leads to its page: today's calls to the calls of the day.
  await page.getByTestId("overview-today").click();
  await expect(page).toHaveURL(/\/cdrs\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d$/);
  await expect(page.locator(`[data-testid="cdr-row"][data-call-id="${callId}"]`)).toBeVisible();
  expect(problems).toEqual([]);
});

test("a standard user's Home shows only its own figures", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await hydrated(page);
  await expect(page.getByTestId("overview-balance")).toContainText("My balance");
  await expect(page.getByTestId("overview-balance-figure")).toHaveText("0.00000 EUR");
  // The call was made by another number: none is the user's.
  await expect(page.getByTestId("overview-today-figure")).toHaveText("0 calls");
  await expect(page.getByTestId("overview-import")).toHaveCount(0);
  await expect(navLink(page, "Live calls")).toBeVisible();
  await expect(navLink(page, "Balances")).toHaveCount(0);
  await shoot(page, "home-user");
  await navLink(page, "Live calls").click();
  await expect(page.getByTestId("tenant-pays")).toBeVisible();
  expect(problems).toEqual([]);
});

test("the operator chooses the tenant on Home", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await hydrated(page);
  await expect(page.getByTestId("choose-tenant")).toBeVisible();
  await page.getByTestId("tenant-picker").selectOption(tenant.id);
  await expect(page).toHaveURL(/\/\?tenant=/);
  await expect(page.getByTestId("overview-today-figure")).toHaveText("1 call");
  await expect(page.getByTestId("overview-live")).toHaveAttribute("href", /\/live-calls\?tenant=/);
  await shoot(page, "home-operator");
  expect(problems).toEqual([]);
});
