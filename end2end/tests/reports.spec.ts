import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import {
  ADMIN_PASSWORD,
  CLERK,
  apiLogin,
  collectProblems,
  hydrated,
  logout,
  makeTenant,
  navLink,
  openPage,
  pickTenant,
  portalLogin,
  shoot,
  BOSS,
  type Headers,
  type Tenant,
} from "./support";

/**
 * Spend reports: the PBX (the tenant administrator's API login) posts calls
 * of the last days through the REST API; Home and the Reports page draw
 * them as charts whose hover titles carry the figures of the API's own
 * spend report (the rollups), with their tables; a rate description with
 * markup in it stays text; a standard user's "My spend" shows only its own
 * calls and account.
 */

const DAY = 86_400_000;
const today = Date.now() - (Date.now() % DAY);
/** A description with markup, as a deck may carry: it must stay text. */
const UK = "United Kingdom <b>&</b> 'Isles'";
const NEIGHBOUR = { username: "neighbour", password: "neighbour-password-1" };

let tenant: Tenant;
let clerk: Headers;

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const time = (daysAgo: number, hour: number, minute: number) =>
  new Date(today - daysAgo * DAY + (hour * 60 + minute) * 60_000).toISOString().replace(".000Z", "Z");

function cdr(callId: string, caller: string, callee: string, startedAt: string, duration: number) {
  return {
    call_id: callId,
    caller,
    callee,
    direction: "OUTBOUND_CALL",
    started_at: startedAt,
    ...(duration > 0 ? { answered_at: startedAt } : {}),
    duration,
    status_code: duration > 0 ? 200 : 486,
  };
}

function rate(prefix: string, description: string) {
  return {
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
  };
}

test.beforeAll(async ({ request }) => {
  tenant = await makeTenant(request, "reports");
  const boss = tenant.boss;
  const made = await request.post("/api/users", {
    headers: boss,
    data: { ...NEIGHBOUR, role: "StandardUser" },
  });
  expect(made.status(), await made.text()).toBe(200);
  for (const body of [rate("44", UK), rate("1", "North America")]) {
    const created = await request.post("/api/call_rates", { headers: boss, data: body });
    expect(created.status(), await created.text()).toBe(200);
  }
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
      cdr("mine-1", CLERK.username, "442071230001", time(3, 9, 15), 90),
      cdr("mine-2", CLERK.username, "12125550100", time(2, 14, 30), 150),
      cdr("mine-3", CLERK.username, "442071230002", time(2, 9, 40), 0),
      cdr("theirs", NEIGHBOUR.username, "442071230003", time(1, 9, 5), 600),
    ],
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).accepted).toBe(4);
  clerk = await apiLogin(request, CLERK.username, CLERK.password, tenant.domain);
});

interface SpendItem {
  key: string;
  description?: string;
  calls: number;
  answered: number;
  seconds: number;
  cost: number;
}

/** The API's spend report of the last 30 days for a login. */
async function spend(
  request: APIRequestContext,
  headers: Headers,
  groupBy: string,
): Promise<SpendItem[]> {
  const from = new Date(today - 29 * DAY).toISOString();
  const to = new Date(today + DAY).toISOString();
  const answer = await request.get(
    `/api/reports/spend?from=${from}&to=${to}&group_by=${groupBy}`,
    { headers },
  );
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).items;
}

const calls = (n: number) => (n === 1 ? "1 call" : `${n} calls`);
const minutes = (seconds: number) => String(Math.round((seconds / 60) * 10) / 10);
const money = (cost: number) => `${Number(cost).toFixed(5)} EUR`;

/** The hover title each day with calls should have in the spend-per-day chart. */
const dayTitle = (i: SpendItem) =>
  `${i.key}: ${money(i.cost)} · ${calls(i.calls)}, ${i.answered} answered, ${minutes(i.seconds)} min`;

/** The hover titles of a chart's columns, bars or points, once it has `count`. */
async function titles(page: Page, key: string, count?: number): Promise<string[]> {
  const shapes = page.getByTestId(`chart-${key}`).locator("svg rect title, svg circle title");
  if (count === undefined) {
    await expect(shapes.first()).toBeAttached();
  } else {
    await expect(shapes).toHaveCount(count);
  }
  return shapes.allTextContents();
}

test("the tenant's spend is drawn from the rollups on Home and on the Reports page", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  const byDay = await spend(request, tenant.boss, "day");
  expect(byDay.map((i) => i.key)).toEqual([dayText(today - 3 * DAY), dayText(today - 2 * DAY), dayText(today - DAY)]);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await hydrated(page);

  // Home: spend per day of the last 30 days, and the top destinations.
  const home = page.getByTestId("home-charts");
  await expect(home).toBeVisible();
  const homeDays = await titles(page, "spend-per-day", 30);
  for (const item of byDay) {
    expect(homeDays).toContain(dayTitle(item));
  }
  const byDestination = await spend(request, tenant.boss, "destination");
  const uk = byDestination.find((i) => i.key === "44");
  expect(uk?.description).toBe(UK);
  const top = await titles(page, "top-cost");
  expect(top[0]).toBe(
    `44 ${UK}: ${money(uk!.cost)} · ${calls(uk!.calls)}, ${minutes(uk!.seconds)} min`,
  );
  // The description's markup is text, never elements.
  await expect(page.getByTestId("chart-top-cost").locator("svg b")).toHaveCount(0);
  await expect(page.getByTestId("chart-top-cost").locator("svg")).toContainText(`44 ${UK}`.slice(0, 20));
  // The table view holds the same numbers.
  const table = page.getByTestId("chart-top-cost").locator("details");
  await table.locator("summary").click();
  await expect(table.locator("tbody tr").first().locator("th")).toHaveText(`44 ${UK}`);
  await expect(table.locator("tbody tr").first().locator("td").last()).toHaveText(
    Number(uk!.cost).toFixed(5),
  );
  await shoot(page, "reports-home-admin");

  // The Reports page, from the chart's link.
  await page.getByTestId("chart-spend-per-day").getByTestId("to-reports").click();
  await expect(page).toHaveURL(/\/reports$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Reports");
  await expect(navLink(page, "Reports")).toHaveAttribute("aria-current", "page");
  const totals = byDay.reduce(
    (t, i) => ({ calls: t.calls + i.calls, answered: t.answered + i.answered, seconds: t.seconds + i.seconds, cost: t.cost + i.cost }),
    { calls: 0, answered: 0, seconds: 0, cost: 0 },
  );
  expect(totals.calls).toBe(4);
  await expect(page.getByTestId("report-spend-figure")).toHaveText(money(totals.cost));
  await expect(page.getByTestId("report-answer-rate-figure")).toHaveText("75 %");
  await expect(page.getByTestId("report-average-duration-figure")).toHaveText(
    `${Math.round((totals.seconds / totals.answered) * 10) / 10} s`,
  );
  // Calls per hour of the day: the three calls started at 09 UTC.
  const hours = await titles(page, "calls-per-hour", 24);
  expect(hours[9]).toMatch(/^09:00–09:59 UTC: 3 calls, 2 answered · /);
  expect(hours[14]).toMatch(/^14:00–14:59 UTC: 1 call, 1 answered · /);
  // Top destinations by minutes: the neighbour's ten minutes first.
  expect((await titles(page, "top-minutes"))[0]).toContain(`44 ${UK}: 11.5 min (690 s)`);
  // The tenant's own account (the users pay their calls): its balance per day.
  expect(await titles(page, "balance", 30)).toHaveLength(30);
  await shoot(page, "reports-admin");

  // Printed: the figures and charts without the portal around them.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("banner")).toBeHidden();
  await expect(page.getByTestId("report-filters")).toBeHidden();
  await expect(page.getByTestId("chart-balance").locator("svg")).toBeVisible();
  await page.screenshot({ path: "../target/screenshots/reports-print.png", fullPage: true });
  await page.emulateMedia({ media: "screen" });

  // Another range, checked at its fields first.
  await page.getByTestId("field-from").fill("2026-13-01");
  await page.getByTestId("apply-report").click();
  await expect(page.getByTestId("error-from")).toContainText("must be a day");
  await page.getByTestId("field-from").fill(dayText(today - 3 * DAY));
  await page.getByTestId("field-to").fill(dayText(today - 2 * DAY));
  await page.getByTestId("apply-report").click();
  await expect(page).toHaveURL(/from=.*&to=/);
  await expect(page.getByTestId("error-from")).toHaveText("");
  await expect(page.getByTestId("report-range")).toContainText(
    `From ${dayText(today - 3 * DAY)} to ${dayText(today - 2 * DAY)}`,
  );
  expect(await titles(page, "spend-per-day", 2)).toEqual([dayTitle(byDay[0]), dayTitle(byDay[1])]);
  // A range the page was sent without checking (a link): refused at the field.
  await page.goto(`/reports?from=${dayText(today - 400 * DAY)}&to=${dayText(today)}`);
  await hydrated(page);
  await expect(page.getByTestId("error-to")).toContainText("at most 366 days");
  await logout(page);
  expect(problems).toEqual([]);
});

test("the charts are drawn before the page is hydrated", async ({ page }) => {
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  // The same session without the wasm: the page is never hydrated.
  await page.route("**/*.wasm", (route) => route.abort());
  await page.goto("/reports");
  await expect(page.getByTestId("chart-spend-per-day").locator("svg rect")).toHaveCount(30);
  await expect(page.getByTestId("chart-calls-per-hour").locator("svg rect")).toHaveCount(24);
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(0);
  // Its range form works as a plain GET form.
  await page.getByTestId("field-from").fill(dayText(today - 2 * DAY));
  await page.getByTestId("field-to").fill(dayText(today - 2 * DAY));
  await page.getByTestId("apply-report").click();
  await expect(page).toHaveURL(/from=.*&to=/);
  await expect(page.getByTestId("chart-spend-per-day").locator("svg rect")).toHaveCount(1);
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(0);
});

test("a system administrator picks the tenant of the report", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await hydrated(page);
  await openPage(page, "Reports", /\/reports$/);
  await expect(page.getByTestId("choose-tenant")).toBeVisible();
  const run = tenant.domain.split(".")[0].slice("reports-".length);
  await pickTenant(page, `reports ${run}`, tenant.domain);
  await expect(page.getByTestId("report-spend-figure")).toHaveText(/EUR$/);
  expect(await titles(page, "spend-per-day", 30)).toContain(
    `${dayText(today - DAY)}: ${money(0.05 + 0.1 * 10)} · 1 call, 1 answered, 10 min`,
  );
  await logout(page);
  expect(problems).toEqual([]);
});

test("a user's spend is its own", async ({ page, request }) => {
  const problems = collectProblems(page);
  const own = await spend(request, clerk, "day");
  expect(own.reduce((n, i) => n + i.calls, 0)).toBe(3);
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  await hydrated(page);
  const homeDays = await titles(page, "spend-per-day", 30);
  for (const item of own) {
    expect(homeDays).toContain(dayTitle(item));
  }
  // The neighbour's day has nothing for this user.
  expect(homeDays).toContain(`${dayText(today - DAY)}: ${money(0)} · 0 calls, 0 answered, 0 min`);
  await shoot(page, "reports-home-user");

  await openPage(page, "My spend", /\/reports$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("My spend");
  await expect(page.getByTestId("tenant-picker")).toHaveCount(0);
  await expect(page.getByTestId("report-spend-figure")).toHaveText(
    money(own.reduce((c, i) => c + i.cost, 0)),
  );
  const hours = await titles(page, "calls-per-hour", 24);
  expect(hours[9]).toMatch(/^09:00–09:59 UTC: 2 calls, 1 answered · /);
  const minutesTop = await titles(page, "top-minutes");
  expect(minutesTop.join("\n")).not.toContain("690 s");
  // Its own account's balance, today's point the balance the API gives.
  const balance = await (await request.get("/api/user/balance", { headers: clerk })).json();
  const points = await titles(page, "balance", 30);
  expect(points[points.length - 1]).toBe(`${dayText(today)}: ${money(balance.balance)}`);
  await expect(page.getByTestId("chart-balance")).toContainText(CLERK.username);
  await shoot(page, "reports-user");
  await logout(page);
  expect(problems).toEqual([]);
});
