import { test, expect, type Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
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
  type Headers,
  type Tenant,
} from "./support";

/**
 * The calls page: the PBX posts its calls through the REST API with an API
 * token; the tenant administrator finds them with their cost, filters them,
 * opens one's rating, downloads them as CSV and re-rates them after a rate
 * change; a standard user sees only its own calls.
 */

let tenant: Tenant;
let rateId = "";
const CALLS = 12;

function rateBody(price: number) {
  return {
    prefix: "44",
    type: "INTERNATIONAL",
    free_seconds: 0,
    grace_period: 0,
    interval_1: 60,
    interval_n: 30,
    connect_fee: 0.05,
    postcall_surcharge: 0,
    price_1: price,
    price_n: price,
    description: "United Kingdom",
  };
}

function cdr(i: number) {
  const day = String(1 + (i % 3)).padStart(2, "0");
  const outbound = i % 4 !== 3;
  return {
    call_id: `e2e-call-${String(i).padStart(3, "0")}`,
    caller: "101",
    callee: outbound ? `4420700${String(i).padStart(4, "0")}` : "101",
    direction: outbound ? "OUTBOUND_CALL" : "INBOUND_CALL",
    started_at: `2026-01-${day}T09:${String(10 + i).padStart(2, "0")}:00Z`,
    duration: 45 + i * 10,
    status_code: 200,
  };
}

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "cdrs");
  const rate = await request.post("/api/call_rates", { headers: tenant.boss, data: rateBody(0.1) });
  expect(rate.status(), await rate.text()).toBe(200);
  rateId = (await rate.json()).id;
  const billing = await request.post("/api/tenant/billing", {
    headers: tenant.boss,
    data: { enabled: true },
  });
  expect(billing.status(), await billing.text()).toBe(200);
  const recharge = await request.post(`/api/tenant/balance?tenant_id=${tenant.id}`, {
    headers: tenant.root,
    data: { balance: 100 },
  });
  expect(recharge.status(), await recharge.text()).toBe(200);
  // The PBX's own API token posts the calls.
  const made = await request.post("/api/tokens", { headers: tenant.boss, data: { name: "pbx" } });
  expect(made.status(), await made.text()).toBe(200);
  const pbx: Headers = { Authorization: `Bearer ${(await made.json()).token}` };
  const posted = await request.post("/api/cdrs", {
    headers: pbx,
    data: Array.from({ length: CALLS }, (_, i) => cdr(i)),
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).accepted).toBe(CALLS);
});

const rows = (page: Page) => page.getByTestId("cdr-row");

test("a tenant administrator finds, opens, exports and re-rates the calls", async ({ page, request }) => {
  const problems = collectProblems(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await navLink(page, "Calls").click();
  await expect(page).toHaveURL(/\/cdrs$/);
  await hydrated(page);
  await expect(page.getByTestId("range")).toHaveText(`1–${CALLS} of ${CALLS}`);
  await expect(rows(page)).toHaveCount(CALLS);
  // Each call's cost in the tenant's currency.
  const first = page.locator('tr[data-call-id="e2e-call-000"]');
  await expect(first.locator('[data-field="cost"]')).toHaveText("0.15000 EUR");
  await expect(first.locator('[data-field="rating_status"]')).toHaveText("RATED");
  await shoot(page, "cdrs-list");

  // A refusal at its field: the last day before the first.
  await page.getByTestId("field-from").fill("2026-01-03");
  await page.getByTestId("field-to").fill("2026-01-01");
  await page.getByTestId("apply-filters").click();
  await expect(page.getByTestId("error-to")).toHaveText("must not be before the first day");
  await expect(page.getByTestId("field-to")).toHaveAttribute("aria-invalid", "true");
  await shoot(page, "cdrs-refused");

  // Filters: one day, outbound, rated.
  await page.getByTestId("field-from").fill("2026-01-02");
  await page.getByTestId("field-to").fill("2026-01-02");
  await page.getByTestId("field-status").selectOption("RATED");
  await page.getByTestId("field-direction").selectOption("OUTBOUND_CALL");
  await page.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/from=2026-01-02/);
  await expect(page.getByTestId("error-to")).toHaveText("");
  // Day 2 holds calls 1, 4, 7, 10; 7 is inbound.
  await expect(rows(page)).toHaveCount(3);
  // The number search: caller or callee.
  await page.getByTestId("field-search").fill("0010");
  await page.getByTestId("apply-filters").click();
  await expect(rows(page)).toHaveCount(1);
  await expect(page.locator('tr[data-call-id="e2e-call-010"]')).toBeVisible();
  await page.getByTestId("field-search").fill("");
  await page.getByTestId("apply-filters").click();
  await expect(rows(page)).toHaveCount(3);

  // The export downloads the filtered calls.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-cdrs").click(),
  ]);
  expect(download.suggestedFilename()).toBe("cdrs.csv");
  const csv = await readFile((await download.path())!, "utf8");
  const lines = csv.trim().split("\n");
  expect(lines[0].startsWith("id,call_id,started_at")).toBe(true);
  expect(lines.slice(1).map((l) => l.split(",")[1]).sort()).toEqual([
    "e2e-call-001",
    "e2e-call-004",
    "e2e-call-010",
  ]);
  expect(lines[1]).toContain(",EUR,");

  // One call's rating.
  await page.locator('tr[data-call-id="e2e-call-004"]').getByTestId("cdr-link").click();
  await expect(page).toHaveURL(/\/cdrs\/[^/?]+/);
  const rating = page.getByTestId("cdr-rating");
  await expect(rating).toContainText("Matched prefix");
  await expect(rating).toContainText("44");
  // 85 s: the first 60 s, then one block of 30 s; 0.05 connect fee.
  await expect(rating).toContainText("Billable seconds");
  await expect(rating).toContainText("90");
  await expect(rating).toContainText("0.20000 EUR");
  await shoot(page, "cdr-detail");
  await page.getByTestId("back-to-cdrs").click();
  await expect(page).toHaveURL(/\/cdrs$/);

  // The rate doubles; re-rating the rated calls charges the difference.
  const dearer = await request.post(`/api/call_rates/${rateId}`, {
    headers: tenant.boss,
    data: rateBody(0.2),
  });
  expect(dearer.status(), await dearer.text()).toBe(200);
  await page.getByTestId("field-status").selectOption("RATED");
  await page.getByTestId("apply-filters").click();
  await expect(rows(page)).toHaveCount(9);
  await page.getByTestId("rerate").click();
  await page.getByTestId("confirm-rerate").click();
  await expect(page.getByTestId("rerated")).toBeVisible();
  await expect(page.getByTestId("rerate-matched")).toHaveText("9");
  await expect(page.getByTestId("rerate-rerated")).toHaveText("9");
  await expect(page.getByTestId("rerate-unchanged")).toHaveText("0");
  await expect(page.getByTestId("rerate-unrated")).toHaveText("0");
  await expect(page.getByTestId("rerate-delta")).toContainText("EUR");
  // The list shows the new costs.
  await expect(page.locator('tr[data-call-id="e2e-call-000"] [data-field="cost"]')).toHaveText(
    "0.25000 EUR",
  );
  await shoot(page, "cdrs-rerated");
  expect(problems).toEqual([]);
});

test("a system administrator opens a tenant's calls", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await navLink(page, "Calls").click();
  await expect(page.getByTestId("choose-tenant")).toBeVisible();
  await page.getByTestId("tenant-picker").selectOption(tenant.id);
  await expect(page).toHaveURL(/\/cdrs\?tenant=/);
  await expect(rows(page)).toHaveCount(CALLS);
  const href = await page.getByTestId("export-cdrs").getAttribute("href");
  expect(href).toMatch(/^\/portal\/export\/cdrs\.csv\?tenant=/);
  expect(problems).toEqual([]);
});

test("a standard user sees its own calls, without re-rating", async ({ page }) => {
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await expect(navLink(page, "Call rates")).toHaveCount(0);
  await expect(navLink(page, "Calls")).toHaveCount(0);
  await navLink(page, "My calls").click();
  await expect(page).toHaveURL(/\/cdrs$/);
  await hydrated(page);
  // The calls here are 101's, not the clerk's.
  await expect(page.getByTestId("empty")).toBeVisible();
  await expect(page.getByTestId("rerate")).toHaveCount(0);
});
