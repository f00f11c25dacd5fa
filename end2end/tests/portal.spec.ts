import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import { collectProblems, hydrated } from "./support";

/**
 * The portal end to end, in a real browser, against a fresh server: a system
 * administrator picks a tenant, a tenant administrator manages its rates and
 * billing settings, a standard user only looks.
 *
 * Each run makes its own tenant (a unique SIP domain), so the test also passes
 * against a database that earlier runs have used.
 */

const ADMIN_PASSWORD = process.env.RATEDECK_ADMIN_PASSWORD ?? "admin-password-123";
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const DOMAIN = `pbx-${RUN}.e2e.example`;
const TENANT_NAME = `E2E ${RUN}`;
const BOSS = { username: "boss", password: "boss-password-1" };
const CLERK = { username: "clerk", password: "clerk-password-1" };
/** Rates made through the REST API, so that there is more than one page. */
const SEEDED = 30;

/** Counts the page's calls of server functions. */
function countServerCalls(page: Page): () => number {
  let calls = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/portal/fn/")) {
      calls += 1;
    }
  });
  return () => calls;
}


async function apiLogin(
  request: APIRequestContext,
  username: string,
  password: string,
  domain?: string,
): Promise<Record<string, string>> {
  const response = await request.post("/api/login", {
    data: domain ? { username, password, domain } : { username, password },
  });
  expect(response.status(), await response.text()).toBe(200);
  const { access_token } = await response.json();
  return { Authorization: `Bearer ${access_token}` };
}

async function portalLogin(
  page: Page,
  username: string,
  password: string,
  domain = "",
): Promise<void> {
  await page.goto("/login");
  await hydrated(page);
  await page.getByTestId("username").fill(username);
  await page.getByTestId("password").fill(password);
  await page.getByTestId("domain").fill(domain);
  await page.getByTestId("login").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("who")).toContainText(username);
}

async function logout(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId("login")).toBeVisible();
}

/** A link of the navigation in the top bar. */
const navLink = (page: Page, name: string) =>
  page.getByRole("banner").getByRole("link", { name, exact: true });
const rows = (page: Page) => page.getByTestId("rate-row");
const row = (page: Page, prefix: string) => page.locator(`tr[data-prefix="${prefix}"]`);

let tenantId = "";

test.beforeAll(async ({ request }) => {
  const admin = await apiLogin(request, "admin", ADMIN_PASSWORD);
  const tenant = await request.post("/api/tenants", {
    headers: admin,
    data: { name: TENANT_NAME, sip_domain: DOMAIN },
  });
  expect(tenant.status(), await tenant.text()).toBe(200);
  tenantId = (await tenant.json()).id;
  for (const [user, role] of [
    [BOSS, "Admin"],
    [CLERK, "StandardUser"],
  ] as const) {
    const created = await request.post("/api/users", {
      headers: admin,
      data: { ...user, role, tenant_id: tenantId },
    });
    expect(created.status(), await created.text()).toBe(200);
  }
  const boss = await apiLogin(request, BOSS.username, BOSS.password, DOMAIN);
  for (let i = 0; i < SEEDED; i++) {
    const created = await request.post("/api/call_rates", {
      headers: boss,
      data: {
        prefix: `55${String(i).padStart(2, "0")}`,
        type: "MOBILE",
        free_seconds: 0,
        grace_period: 0,
        interval_1: 60,
        interval_n: 60,
        connect_fee: 0,
        postcall_surcharge: 0,
        price_1: 0.1,
        price_n: 0.1,
        description: `Seeded ${i}`,
      },
    });
    expect(created.status(), await created.text()).toBe(200);
  }
});

test("a system administrator picks the tenant and exports its rates", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);

  await navLink(page, "Call rates").click();
  await expect(page).toHaveURL(/\/rates$/);
  await expect(page.getByTestId("choose-tenant")).toBeVisible();
  await page.getByTestId("tenant-picker").selectOption(tenantId);
  await expect(page).toHaveURL(/\/rates\?tenant=/);
  await expect(page.getByTestId("range")).toHaveText(`1–25 of ${SEEDED}`);
  await expect(rows(page)).toHaveCount(25);
  // The system administrator manages any tenant.
  await expect(page.getByTestId("new-rate")).toBeVisible();
  // The same page loaded afresh is rendered on the server and hydrated.
  await page.reload();
  await hydrated(page);
  await expect(rows(page)).toHaveCount(25);
  await expect(page.getByTestId("tenant-picker")).toHaveValue(tenantId);

  // The navigation keeps the tenant.
  await navLink(page, "Billing").click();
  await expect(page).toHaveURL(/\/billing\?tenant=/);
  await expect(page.getByTestId("billing-enabled")).toBeVisible();
  await navLink(page, "Tariffs").click();
  await expect(page).toHaveURL(/\/tariffs\?tenant=/);
  await expect(page.getByTestId("tariff-row")).toHaveCount(1);
  await expect(page.getByTestId("new-tariff")).toBeVisible();
  await navLink(page, "Billing plans").click();
  await expect(page).toHaveURL(/\/billing-plans\?tenant=/);
  await expect(page.getByTestId("empty")).toBeVisible();
  await navLink(page, "Call rates").click();
  await expect(rows(page)).toHaveCount(25);

  // The export streams the tenant's rates for the session's user.
  const href = await page.getByTestId("export").getAttribute("href");
  expect(href).toMatch(/^\/portal\/export\/call_rates\.csv\?tenant=/);
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const text = await csv.text();
  expect(text.split("\n")[0]).toBe(
    "id,prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description",
  );
  expect(text.trim().split("\n")).toHaveLength(SEEDED + 1);

  await logout(page);
  expect(problems).toEqual([]);
});

test("a tenant administrator manages rates and billing settings", async ({ page }) => {
  const problems = collectProblems(page);
  const serverCalls = countServerCalls(page);
  await portalLogin(page, BOSS.username, BOSS.password, DOMAIN);
  await expect(page.getByTestId("who")).toContainText(TENANT_NAME);

  await navLink(page, "Call rates").click();
  await expect(page).toHaveURL(/\/rates$/);
  await expect(page.getByTestId("tenant-picker")).toHaveCount(0);
  await expect(page.getByTestId("range")).toHaveText(`1–25 of ${SEEDED}`);

  // --- Create, with the shared validator running in the browser first.
  await page.getByTestId("new-rate").click();
  const form = page.getByTestId("rate-form");
  await expect(form).toBeVisible();
  await form.getByTestId("field-prefix").fill("4420");
  await form.getByTestId("field-type").selectOption("INTERNATIONAL");
  await form.getByTestId("field-interval_1").fill("0");
  await form.getByTestId("field-price_1").fill("0.06");
  await form.getByTestId("field-price_n").fill("0.03");
  await form.getByTestId("field-description").fill("London");
  const before = serverCalls();
  await form.getByTestId("save-rate").click();
  await expect(form.getByTestId("error-interval_1")).toHaveText("must be at least 1");
  await expect(form.getByTestId("field-interval_1")).toHaveAttribute("aria-invalid", "true");
  // Only the wasm can have said so: nothing went to the server.
  expect(serverCalls()).toBe(before);

  await form.getByTestId("field-interval_1").fill("60");
  await form.getByTestId("save-rate").click();
  await expect(page.getByTestId("notice")).toHaveText("The rate was saved.");
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId("range")).toHaveText(`1–25 of ${SEEDED + 1}`);

  // --- A duplicate prefix is refused by the server, next to the field.
  await page.getByTestId("new-rate").click();
  await form.getByTestId("field-prefix").fill("+4420");
  await form.getByTestId("field-price_1").fill("0.05");
  await form.getByTestId("field-price_n").fill("0.05");
  const beforeDuplicate = serverCalls();
  await form.getByTestId("save-rate").click();
  await expect(form.getByTestId("error-prefix")).toHaveText(
    "already exists in this tariff's rates (with the same activation date)",
  );
  expect(serverCalls()).toBeGreaterThan(beforeDuplicate);
  await form.getByTestId("cancel").click();
  await expect(form).toHaveCount(0);

  // --- Search.
  await page.getByTestId("search").fill("London");
  await page.getByTestId("search-button").click();
  await expect(page).toHaveURL(/search=London/);
  await expect(rows(page)).toHaveCount(1);
  await expect(row(page, "4420").locator('[data-field="type"]')).toHaveText("INTERNATIONAL");
  await expect(page.getByTestId("range")).toHaveText("1–1 of 1");

  // --- Edit.
  await row(page, "4420").getByTestId("edit").click();
  await expect(form.getByTestId("field-prefix")).toHaveValue("4420");
  await expect(form.getByTestId("field-price_1")).toHaveValue("0.06");
  await form.getByTestId("field-price_1").fill("0.075");
  await form.getByTestId("field-grace_period").fill("5");
  await form.getByTestId("save-rate").click();
  await expect(page.getByTestId("notice")).toHaveText("The rate was saved.");
  await expect(row(page, "4420").locator('[data-field="price_1"]')).toHaveText("0.075");
  await expect(row(page, "4420").locator('[data-field="grace_period"]')).toHaveText("5");

  // --- Sort by clicking the column heading, both ways.
  await page.getByTestId("search").fill("");
  await page.getByTestId("search-button").click();
  await expect(rows(page)).toHaveCount(25);
  await page.getByTestId("sort-prefix").click();
  await expect(page).toHaveURL(/orderby=prefix(%20|\+)asc/);
  await expect(rows(page).first()).toHaveAttribute("data-prefix", "4420");
  await page.getByTestId("sort-prefix").click();
  await expect(page).toHaveURL(/orderby=prefix(%20|\+)desc/);
  await expect(rows(page).first()).toHaveAttribute("data-prefix", "5529");

  // --- Pages: the next page, and another page size.
  await page.getByTestId("next-page").click();
  await expect(page.getByTestId("range")).toHaveText(`26–${SEEDED + 1} of ${SEEDED + 1}`);
  await expect(rows(page)).toHaveCount(SEEDED + 1 - 25);
  await expect(rows(page).last()).toHaveAttribute("data-prefix", "4420");
  await page.getByTestId("prev-page").click();
  await expect(page.getByTestId("range")).toHaveText(`1–25 of ${SEEDED + 1}`);
  await page.getByTestId("page-size").selectOption("10");
  await expect(page.getByTestId("range")).toHaveText(`1–10 of ${SEEDED + 1}`);
  await expect(rows(page)).toHaveCount(10);
  await expect(rows(page).first()).toHaveAttribute("data-prefix", "5529");

  // The list's state is in the URL: a reload renders the same on the server.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("range")).toHaveText(`1–10 of ${SEEDED + 1}`);
  await expect(rows(page).first()).toHaveAttribute("data-prefix", "5529");

  // --- Billing settings, saved and still there after a reload.
  await navLink(page, "Billing").click();
  await expect(page).toHaveURL(/\/billing$/);
  const enabled = page.getByTestId("billing-enabled");
  await expect(enabled).not.toBeChecked();
  await expect(page.getByTestId("account-TENANT")).toBeChecked();
  await expect(page.getByTestId("type-OFFLINE")).toBeChecked();
  await enabled.check();
  await page.getByTestId("account-USER").check();
  await page.getByTestId("type-ONLINE").check();
  await page.getByTestId("save-billing").click();
  await expect(page.getByTestId("billing-saved")).toHaveText("Saved.");
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("billing-enabled")).toBeChecked();
  await expect(page.getByTestId("account-USER")).toBeChecked();
  await expect(page.getByTestId("type-ONLINE")).toBeChecked();
  await expect(page.getByTestId("billing-saved")).toHaveCount(0);

  // --- Delete, after a confirmation.
  await navLink(page, "Call rates").click();
  await page.getByTestId("search").fill("4420");
  await page.getByTestId("search-button").click();
  await expect(rows(page)).toHaveCount(1);
  await row(page, "4420").getByTestId("delete").click();
  await row(page, "4420").getByTestId("confirm-delete").click();
  await expect(page.getByTestId("notice")).toHaveText("The rate was deleted.");
  await expect(rows(page)).toHaveCount(0);
  await expect(page.getByTestId("empty")).toHaveText("No rates match “4420”.");

  await logout(page);
  // A page behind the login now sends the visitor back to it.
  await page.goto("/rates");
  await expect(page).toHaveURL(/\/login$/);
  expect(problems).toEqual([]);
});

test("a tenant administrator manages tariffs and billing plans", async ({ page }) => {
  const problems = collectProblems(page);
  const serverCalls = countServerCalls(page);
  const tariffRows = page.getByTestId("tariff-row");
  const tariffRow = (name: string) => page.locator(`tr[data-testid="tariff-row"][data-name="${name}"]`);
  const planRows = page.getByTestId("plan-row");
  const planRow = (prefix: string) => page.locator(`tr[data-testid="plan-row"][data-prefix="${prefix}"]`);
  await portalLogin(page, BOSS.username, BOSS.password, DOMAIN);

  // --- The default tariff holds the call rates and cannot be deleted.
  await navLink(page, "Tariffs").click();
  await expect(page).toHaveURL(/\/tariffs$/);
  await expect(tariffRows).toHaveCount(1);
  await expect(tariffRows.first().getByTestId("default")).toHaveText("default");
  await expect(tariffRows.first().locator('[data-field="rates"]')).toHaveText(String(SEEDED));
  await expect(tariffRows.first().getByTestId("edit")).toBeVisible();
  await expect(tariffRows.first().getByTestId("delete")).toHaveCount(0);

  // --- A tariff: a bad currency is named next to its field by the browser.
  await page.getByTestId("new-tariff").click();
  const tariffForm = page.getByTestId("tariff-form");
  await tariffForm.getByTestId("field-name").fill("Wholesale");
  await tariffForm.getByTestId("field-currency").fill("XYZ");
  await tariffForm.getByTestId("field-connect_fee").fill("0.05");
  await tariffForm.getByTestId("field-free_seconds").fill("10");
  const before = serverCalls();
  await tariffForm.getByTestId("save-tariff").click();
  await expect(tariffForm.getByTestId("error-currency")).toHaveText(
    "must be an ISO 4217 currency code such as USD or EUR",
  );
  await expect(tariffForm.getByTestId("field-currency")).toHaveAttribute("aria-invalid", "true");
  expect(serverCalls()).toBe(before);
  await tariffForm.getByTestId("field-currency").fill("eur");
  await tariffForm.getByTestId("save-tariff").click();
  await expect(page.getByTestId("notice")).toHaveText("The tariff was saved.");
  await expect(tariffForm).toHaveCount(0);
  await expect(tariffRows).toHaveCount(2);
  const wholesale = tariffRow("Wholesale");
  await expect(wholesale.locator('[data-field="currency"]')).toHaveText("EUR");
  await expect(wholesale.locator('[data-field="connect_fee"]')).toHaveText("0.05");
  await expect(wholesale.locator('[data-field="free_seconds"]')).toHaveText("10");
  await expect(wholesale.locator('[data-field="rates"]')).toHaveText("0");

  // --- A second tariff of the same name is refused by the server, next to the field.
  await page.getByTestId("new-tariff").click();
  await tariffForm.getByTestId("field-name").fill("Wholesale");
  await tariffForm.getByTestId("save-tariff").click();
  await expect(tariffForm.getByTestId("error-name")).toHaveText(
    "is already the name of another tariff of the tenant",
  );
  await tariffForm.getByTestId("cancel").click();
  await expect(tariffForm).toHaveCount(0);

  // --- Edit the tariff.
  await wholesale.getByTestId("edit").click();
  await expect(tariffForm.getByTestId("field-currency")).toHaveValue("EUR");
  await tariffForm.getByTestId("field-grace_period").fill("3");
  await tariffForm.getByTestId("save-tariff").click();
  await expect(page.getByTestId("notice")).toHaveText("The tariff was saved.");
  await expect(wholesale.locator('[data-field="grace_period"]')).toHaveText("3");

  // --- A billing plan using it.
  await navLink(page, "Billing plans").click();
  await expect(page).toHaveURL(/\/billing-plans$/);
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("new-plan").click();
  const planForm = page.getByTestId("plan-form");
  await expect(planForm).toBeVisible();
  // Without a prefix the browser says so.
  const beforePlan = serverCalls();
  await planForm.getByTestId("save-plan").click();
  await expect(planForm.getByTestId("error-prefix")).toHaveText("is required");
  expect(serverCalls()).toBe(beforePlan);
  await planForm.getByTestId("field-prefix").fill("4930");
  await planForm.getByTestId("field-tariff_id").selectOption({ label: "Wholesale (EUR)" });
  await planForm.getByTestId("field-billing_cycle").selectOption({ label: "Weekly" });
  await planForm.getByTestId("field-billing_day").fill("9");
  await planForm.getByTestId("field-description").fill("Berlin wholesale");
  // A weekly plan bills on a weekday: the server says so, next to the field.
  await planForm.getByTestId("save-plan").click();
  await expect(planForm.getByTestId("error-billing_day")).toHaveText(
    "must be between 1 and 7 for this billing cycle",
  );
  await expect(planForm.getByTestId("error-prefix")).toHaveText("");
  await planForm.getByTestId("field-billing_day").fill("5");
  await planForm.getByTestId("save-plan").click();
  await expect(page.getByTestId("notice")).toHaveText("The billing plan was saved.");
  await expect(planForm).toHaveCount(0);
  const plan = planRow("4930");
  await expect(plan.locator('[data-field="tariff"]')).toHaveText("Wholesale");
  await expect(plan.locator('[data-field="billing_cycle"]')).toHaveText("Weekly");
  await expect(plan.locator('[data-field="billing_day"]')).toHaveText("Fri");
  // The currency defaults to the tariff's.
  await expect(plan.locator('[data-field="currency"]')).toHaveText("EUR");
  await expect(plan.locator('[data-field="prepaid"]')).toHaveText("yes");

  // --- Both are there after a reload, rendered on the server.
  await page.reload();
  await hydrated(page);
  await expect(planRows).toHaveCount(1);
  await expect(plan.locator('[data-field="description"]')).toHaveText("Berlin wholesale");
  await page.goto("/tariffs");
  await hydrated(page);
  await expect(tariffRows).toHaveCount(2);
  await expect(wholesale.locator('[data-field="grace_period"]')).toHaveText("3");

  // --- Edit the plan: the form holds its values.
  await navLink(page, "Billing plans").click();
  await plan.getByTestId("edit").click();
  await expect(planForm.getByTestId("field-prefix")).toHaveValue("4930");
  await expect(planForm.getByTestId("field-billing_cycle")).toHaveValue("1");
  await planForm.getByTestId("field-round_up").check();
  await planForm.getByTestId("save-plan").click();
  await expect(page.getByTestId("notice")).toHaveText("The billing plan was saved.");
  await expect(plan.locator('[data-field="round_up"]')).toHaveText("yes");

  // --- Delete the plan, then the tariff it used.
  await plan.getByTestId("delete").click();
  await plan.getByTestId("confirm-delete").click();
  await expect(page.getByTestId("notice")).toHaveText("The billing plan was deleted.");
  await expect(planRows).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(planRows).toHaveCount(0);
  await navLink(page, "Tariffs").click();
  await wholesale.getByTestId("delete").click();
  await wholesale.getByTestId("confirm-delete").click();
  await expect(page.getByTestId("notice")).toHaveText("The tariff was deleted.");
  await expect(tariffRows).toHaveCount(1);

  await logout(page);
  expect(problems).toEqual([]);
});

test("a standard user has none of the tenant's pages", async ({ page }) => {
  const problems = collectProblems(page);
  await portalLogin(page, CLERK.username, CLERK.password, DOMAIN);
  for (const name of ["Call rates", "Tariffs", "Billing plans", "Billing", "Users"]) {
    await expect(navLink(page, name)).toHaveCount(0);
  }
  await expect(navLink(page, "My calls")).toBeVisible();
  for (const path of ["/rates", "/tariffs", "/billing-plans"]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByTestId("list-error")).toContainText("administrators");
  }
  await logout(page);
  expect(problems).toEqual([]);
});

test("a page fetches the main module and its own modules, not the other pages'", async ({
  page,
}) => {
  const problems = collectProblems(page);
  const wasm: string[] = [];
  page.on("requestfinished", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/pkg/") && path.endsWith(".wasm")) {
      wasm.push(path.slice("/pkg/".length));
    }
  });
  await page.goto("/login");
  await hydrated(page);
  // The page's head names the login page's own module for the browser to preload …
  const preload = page.locator("head link[rel='preload'][href*='/pkg/split___login_route_view']");
  await expect(preload).toHaveCount(1);
  // … and the browser fetches it with the main module, and no other page's.
  expect(wasm.filter((name) => name.startsWith("ratedeck."))).toHaveLength(1);
  expect(wasm.filter((name) => name.startsWith("split___login_route_view"))).toHaveLength(1);
  const others = wasm.filter((n) => n.startsWith("split___") && !n.startsWith("split___login"));
  expect(others).toEqual([]);
  expect(problems).toEqual([]);
});

test("without its wasm the portal is not hydrated (what the checks above rely on)", async ({
  page,
}) => {
  await page.route("**/*.wasm", (route) => route.abort());
  await page.goto("/login");
  // The server-rendered page is there …
  await expect(page.getByTestId("login")).toBeVisible();
  // … but the hydration mark never comes.
  await page.waitForTimeout(1500);
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(0);
});

test("the login form tells the wait after repeated failures", async ({ page }) => {
  const problems = collectProblems(page);
  await page.goto("/login");
  await hydrated(page);
  const attempt = async (password: string) => {
    await page.getByTestId("username").fill(CLERK.username);
    await page.getByTestId("password").fill(password);
    await page.getByTestId("domain").fill(DOMAIN);
    await page.getByTestId("login").click();
  };
  for (let n = 1; n <= 5; n++) {
    const answered = page.waitForResponse((r) => r.url().endsWith("/portal/fn/login"));
    await attempt(`wrong password ${n}`);
    expect((await answered).status()).toBe(401);
    await expect(page.getByTestId("login-error")).toHaveText("Wrong user name, password or domain.");
  }
  // Locked now: even the right password is refused, and the form says how long.
  const answered = page.waitForResponse((r) => r.url().endsWith("/portal/fn/login"));
  await attempt(CLERK.password);
  const locked = await answered;
  expect(locked.status()).toBe(429);
  expect(Number(locked.headers()["retry-after"])).toBeGreaterThan(0);
  await expect(page.getByTestId("login-error")).toHaveText(
    /^Too many failed logins: try again in \d+ (minutes|seconds)\.$/,
  );
  await expect(page).toHaveURL(/\/login$/);
  expect(problems).toEqual([]);
});
