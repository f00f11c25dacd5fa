import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { readFile } from "node:fs/promises";

/**
 * What the money-and-calls specs share: logins, a fresh tenant with its
 * administrator and a standard user, the check that nothing went wrong in
 * the page, and the screenshots at both widths.
 */

export const ADMIN_PASSWORD = process.env.RATEDECK_ADMIN_PASSWORD ?? "admin-password-123";
export const BOSS = { username: "boss", password: "boss-password-1" };
export const CLERK = { username: "clerk", password: "clerk-password-1" };
/** Where the screenshots go (under the workspace's target/). */
const SHOTS = process.env.RATEDECK_E2E_SHOTS ?? "../target/screenshots";

export type Headers = Record<string, string>;

/** A tenant made for one spec run. */
export interface Tenant {
  id: string;
  domain: string;
  /** The tenant administrator's API login. */
  boss: Headers;
  /** The system administrator's API login. */
  root: Headers;
}

/**
 * Fails the test on anything that goes wrong in the page (see portal.spec.ts):
 * a server function's refusal (4xx) is expected, and shown by the page.
 */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  const refusal = (url: string, status: number) =>
    new URL(url).pathname.startsWith("/portal/fn/") && status >= 400 && status < 500;
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") {
      const status = Number(/status of (\d{3})/.exec(message.text())?.[1] ?? 0);
      const url = message.location().url;
      if (!(url && refusal(url, status))) {
        problems.push(`console error: ${message.text()}`);
      }
    }
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !refusal(response.url(), response.status())) {
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "";
    if (!reason.includes("ERR_ABORTED")) {
      problems.push(`request failed: ${request.url()} ${reason}`);
    }
  });
  return problems;
}

export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1, { timeout: 30_000 });
}

export async function apiLogin(
  request: APIRequestContext,
  username: string,
  password: string,
  domain?: string,
): Promise<Headers> {
  const response = await request.post("/api/login", {
    data: domain ? { username, password, domain } : { username, password },
  });
  expect(response.status(), await response.text()).toBe(200);
  const { access_token } = await response.json();
  return { Authorization: `Bearer ${access_token}` };
}

export async function portalLogin(
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

/** A link of the navigation in the top bar. */
export const navLink = (page: Page, name: string) =>
  page.getByRole("banner").getByRole("link", { name, exact: true });

/** A tenant of its own for a spec (a unique SIP domain), with `boss` and `clerk`. */
export async function makeTenant(request: APIRequestContext, label: string): Promise<Tenant> {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const domain = `${label}-${run}.e2e.example`;
  const root = await apiLogin(request, "admin", ADMIN_PASSWORD);
  const tenant = await request.post("/api/tenants", {
    headers: root,
    data: { name: `${label} ${run}`, sip_domain: domain, currency: "EUR" },
  });
  expect(tenant.status(), await tenant.text()).toBe(200);
  const id = (await tenant.json()).id;
  for (const [user, role] of [
    [BOSS, "Admin"],
    [CLERK, "StandardUser"],
  ] as const) {
    const created = await request.post("/api/users", {
      headers: root,
      data: { ...user, role, tenant_id: id },
    });
    expect(created.status(), await created.text()).toBe(200);
  }
  const boss = await apiLogin(request, BOSS.username, BOSS.password, domain);
  return { id, domain, boss, root };
}

/** Screenshots of the page as it is, 1280 and 390 pixels wide (whole page). */
export async function shoot(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 1280 ? 800 : 844 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  if (before) {
    await page.setViewportSize(before);
  }
}

/** A short id unique to one spec run, for names and SIP domains. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Logs out from the top bar. */
export async function logout(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Opens a page from the navigation and waits for it to be hydrated. */
export async function openPage(page: Page, name: string, path: RegExp): Promise<void> {
  await navLink(page, name).click();
  await expect(page).toHaveURL(path);
  await hydrated(page);
}

/** Chooses a tenant in a system administrator's picker, by its name and SIP domain. */
export async function pickTenant(page: Page, name: string, domain: string): Promise<void> {
  await page.getByTestId("tenant-picker").selectOption({ label: `${name} (${domain})` });
  await expect(page).toHaveURL(/tenant=/);
}

/** Clicks a download link and answers the file's name and text. */
export async function download(
  page: Page,
  testId: string,
): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), "utf8") };
}

/** Makes an API token on the tokens page; answers the secret the page shows once. */
export async function makeToken(page: Page, name: string): Promise<string> {
  await page.getByTestId("token-form").getByTestId("field-name").fill(name);
  await page.getByTestId("create-token").click();
  const secret = page.getByTestId("token-secret");
  await expect(secret).toHaveText(/^[0-9a-f]{64}$/);
  return (await secret.textContent()) ?? "";
}
