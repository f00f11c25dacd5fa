import { test, expect, type APIRequestContext } from "@playwright/test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ADMIN_PASSWORD,
  BOSS,
  CLERK,
  collectProblems,
  hydrated,
  logout,
  makeTenant,
  navLink,
  openPage,
  portalLogin,
  shoot,
  type Tenant,
} from "./support";

/**
 * Low-balance alerts and webhooks in the portal: the tenant administrator
 * registers a webhook (a receiver on 127.0.0.1 in this test) and sets a
 * user's alert threshold; the user's calls take its funds below it; the
 * user sees the banner, the administrator the alert, and the delivery log
 * a delivered entry whose signature the receiver checked with the secret
 * the page shows. The operator's threshold on the tenant's own account
 * shows the banner to the tenant's administrator.
 *
 * The server must post to loopback addresses for this: scripts/test.sh
 * starts it with RATEDECK_WEBHOOK_PRIVATE_TARGETS=true.
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let tenant: Tenant;
let receiver: Server;
let hookUrl: string;
const received: Received[] = [];

async function startReceiver(): Promise<void> {
  receiver = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("received");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ratedeck`;
}

/** Checks `Ratedeck-Signature: t=…,v1=…` as a receiver does: HMAC-SHA256 of `t.body`. */
function signed(delivery: Received, secret: string): boolean {
  const header = String(delivery.headers["ratedeck-signature"] ?? "");
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2)));
  if (!parts.t || !parts.v1) {
    return false;
  }
  const expected = createHmac("sha256", secret).update(`${parts.t}.${delivery.body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  const fresh = Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
  return fresh && given.length === expected.length && timingSafeEqual(given, expected);
}

/** A call of the clerk's to 7…, six a minute. */
async function clerkCalls(request: APIRequestContext, id: string, seconds: number): Promise<void> {
  const posted = await request.post("/api/cdrs", {
    headers: tenant.boss,
    data: [
      {
        call_id: id,
        caller: CLERK.username,
        callee: "7100200",
        direction: "OUTBOUND_CALL",
        started_at: "2026-03-02T10:00:00Z",
        answered_at: "2026-03-02T10:00:00Z",
        duration: seconds,
        status_code: 200,
      },
    ],
  });
  expect(posted.status(), await posted.text()).toBe(200);
}

test.beforeAll(async ({ request }) => {
  await startReceiver();
  tenant = await makeTenant(request, "alerts");
  const rate = await request.post("/api/call_rates", {
    headers: tenant.boss,
    data: {
      prefix: "7",
      type: "INTERNATIONAL",
      free_seconds: 0,
      grace_period: 0,
      interval_1: 60,
      interval_n: 60,
      connect_fee: 0,
      postcall_surcharge: 0,
      price_1: 6,
      price_n: 6,
      description: "Six a minute",
    },
  });
  expect(rate.status(), await rate.text()).toBe(200);
  const billing = await request.post("/api/tenant/billing", {
    headers: tenant.boss,
    data: { enabled: true, account: "USER" },
  });
  expect(billing.status(), await billing.text()).toBe(200);
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

test("a user's funds below its threshold: the banner, the alert, a signed webhook", async ({
  page,
  request,
}) => {
  const problems = collectProblems(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);

  // The webhook: a refused URL first, at its field; then the receiver.
  await openPage(page, "Webhooks", /\/webhooks$/);
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("new-webhook").click();
  const form = page.getByTestId("webhook-form");
  await form.getByTestId("field-url").fill("ftp://files.example.com");
  await form.getByTestId("save-webhook").click();
  await expect(form.getByTestId("error-url")).toHaveText("must start with https:// or http://");
  await expect(form.getByTestId("error-events")).toHaveText("must name at least one event");
  await shoot(page, "webhook-form");
  await form.getByTestId("field-url").fill(hookUrl);
  await form.getByTestId("event-balance.low").check();
  await form.getByTestId("field-description").fill("Test receiver");
  await form.getByTestId("save-webhook").click();
  await expect(page.getByTestId("notice")).toHaveText("The webhook endpoint was saved.");
  const row = page.getByTestId("webhook-row");
  await expect(row).toHaveCount(1);
  await expect(row.locator('[data-field="events"]')).toHaveText("Low balance");
  const first = (await row.getByTestId("webhook-secret").textContent()) ?? "";
  expect(first).toMatch(/^whsec_[0-9a-f]{64}$/);
  // A new secret, after asking; the deliveries below are signed with it.
  await row.getByTestId("rotate-secret").click();
  await row.getByTestId("confirm-rotate").click();
  await expect(page.getByTestId("notice")).toContainText("has a new secret");
  await expect(row.getByTestId("webhook-secret")).not.toHaveText(first);
  const secret = (await row.getByTestId("webhook-secret").textContent()) ?? "";
  expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
  await shoot(page, "webhooks");

  // The clerk's threshold and funds, on the balances page.
  await openPage(page, "Balances", /\/balances$/);
  await page.locator("tr[data-account]").filter({ hasText: CLERK.username }).getByRole("link").click();
  await expect(page).toHaveURL(/account=/);
  await expect(page.getByTestId("threshold-state")).toHaveText("No alert is set for this account.");
  await page.getByTestId("recharge-form").getByTestId("field-balance").fill("15");
  await page.getByTestId("save-recharge").click();
  await expect(page.getByTestId("figure-balance")).toHaveText("15.00000 EUR");
  const threshold = page.getByTestId("threshold-form");
  await threshold.getByTestId("field-threshold").fill("-1");
  await page.getByTestId("save-threshold").click();
  await expect(threshold.getByTestId("error-threshold")).toHaveText("must not be negative");
  await threshold.getByTestId("field-threshold").fill("10");
  await page.getByTestId("save-threshold").click();
  await expect(page.getByTestId("threshold-state")).toHaveText("Alert below 10.00000 EUR.");
  await expect(page.getByTestId("no-alerts")).toBeVisible();

  // The PBX posts the clerk's call: 15 - 6 = 9, below 10.
  await clerkCalls(request, `alert-${Date.now()}`, 60);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("threshold-state")).toHaveText(
    "Alert below 10.00000 EUR: the available funds are below it now.",
  );
  const alert = page.getByTestId("alert-row");
  await expect(alert).toHaveCount(1);
  await expect(alert.locator('[data-field="available"]')).toHaveText("9.00000 EUR");
  // The tenant's own account is not low: no banner for its administrator.
  await expect(page.getByTestId("low-balance-banner")).toHaveCount(0);
  await shoot(page, "balances-alert");

  // The delivery log: delivered by the server's worker, within seconds.
  await openPage(page, "Webhooks", /\/webhooks$/);
  await page.getByTestId("delivery-log").click();
  await expect(page).toHaveURL(/\/webhooks\/deliveries/);
  await hydrated(page);
  const delivery = page.getByTestId("delivery-row").first();
  await expect(async () => {
    await page.reload();
    await expect(delivery).toHaveAttribute("data-status", "DELIVERED", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(delivery.locator('[data-field="event"]')).toHaveText("balance.low");
  await expect(delivery.locator('[data-field="attempts"]')).toHaveText("1");
  await expect(delivery.locator('[data-field="last_status"]')).toContainText("HTTP 200");
  await expect(delivery.locator('[data-field="last_status"]')).toContainText("received");
  await hydrated(page);
  // The filters: none failed.
  await page.getByTestId("field-status").selectOption("FAILED");
  await page.getByTestId("apply-delivery-filters").click();
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("field-status").selectOption("DELIVERED");
  await page.getByTestId("apply-delivery-filters").click();
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);
  await shoot(page, "webhook-deliveries");

  // What the receiver took, checked by its signature with the page's secret.
  expect(received).toHaveLength(1);
  expect(signed(received[0], secret)).toBe(true);
  expect(signed(received[0], first)).toBe(false);
  const event = JSON.parse(received[0].body);
  expect(event.type).toBe("balance.low");
  expect(event.data.username).toBe(CLERK.username);
  expect(event.data.available).toBe(9);
  expect(event.data.currency).toBe("EUR");
  expect(problems).toEqual([]);

  // The clerk: the banner on every page while below.
  await logout(page);
  await portalLogin(page, CLERK.username, CLERK.password, tenant.domain);
  const banner = page.getByTestId("low-balance-banner");
  await expect(banner).toContainText(
    "Your account has 9.00000 EUR available, below its alert threshold of 10.00000 EUR.",
  );
  await expect(navLink(page, "Webhooks")).toHaveCount(0);
  await openPage(page, "My balance", /\/balances$/);
  await expect(banner).toBeVisible();
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  await expect(page.getByTestId("threshold-form")).toHaveCount(0);
  await shoot(page, "banner-user");
  // Another call, still below: no second alert, nor delivery.
  await clerkCalls(request, `again-${Date.now()}`, 60);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  await expect(banner).toContainText("3.00000 EUR available");
  expect(problems).toEqual([]);
});

test("the operator's threshold on the tenant's account shows its administrator the banner", async ({
  page,
}) => {
  const problems = collectProblems(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await page.goto(`/balances?tenant=${tenant.id}`);
  await hydrated(page);
  await expect(page.getByTestId("account-title")).toContainText("the tenant's account");
  await page.getByTestId("threshold-form").getByTestId("field-threshold").fill("5");
  await page.getByTestId("save-threshold").click();
  await expect(page.getByTestId("threshold-state")).toHaveText(
    "Alert below 5.00000 EUR: the available funds are below it now.",
  );
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  // The operator has no account of its own: no banner.
  await expect(page.getByTestId("low-balance-banner")).toHaveCount(0);
  await logout(page);

  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  const banner = page.getByTestId("low-balance-banner");
  await expect(banner).toContainText("(the tenant's) has 0.00000 EUR available");
  await shoot(page, "banner-admin");
  // Removed: the banner goes.
  await logout(page);
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await page.goto(`/balances?tenant=${tenant.id}`);
  await hydrated(page);
  await page.getByTestId("threshold-form").getByTestId("field-threshold").fill("");
  await page.getByTestId("save-threshold").click();
  await expect(page.getByTestId("threshold-state")).toHaveText("No alert is set for this account.");
  await logout(page);
  await portalLogin(page, BOSS.username, BOSS.password, tenant.domain);
  await expect(page.getByTestId("who")).toBeVisible();
  await expect(page.getByTestId("low-balance-banner")).toHaveCount(0);
  expect(problems).toEqual([]);
});
