import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ADMIN_PASSWORD,
  collectProblems,
  download,
  logout,
  makeToken,
  openPage,
  pickTenant,
  portalLogin,
  runId,
  shoot,
} from "./support";

/**
 * The operator's whole journey, in the browser but for what a PBX does:
 * the operator creates a tenant and its administrator and recharges the
 * tenant's account; the administrator switches billing on, uploads a small
 * deck (preview, then commit), creates a user and an API token (its secret
 * read from the page, copied with the button); the "PBX" posts its calls
 * with that token through the REST API; the administrator sees them with
 * their cost, exports them as CSV, re-rates them after changing a rate, and
 * revokes the token, after which the PBX is refused. The audit log shows
 * what was done.
 */

const RUN = runId();
const TENANT = `Journey ${RUN}`;
const DOMAIN = `journey-${RUN}.e2e.example`;
const CHIEF = { username: "chief", password: "chief-password-1" };
const DECK = [
  "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description",
  "44,INTERNATIONAL,0,0,60,60,0,0,0.1,0.1,United Kingdom",
  "33,INTERNATIONAL,0,0,60,60,0,0,0.3,0.3,France",
].join("\n");

test.use({ permissions: ["clipboard-read", "clipboard-write"] });

function call(id: string, callee: string, seconds: number) {
  return {
    call_id: `journey-${RUN}-${id}`,
    caller: "101",
    callee,
    direction: "OUTBOUND_CALL",
    started_at: "2026-01-05T10:00:00Z",
    duration: seconds,
    status_code: 200,
  };
}

const cost = (page: Page, id: string) =>
  page.locator(`tr[data-call-id="journey-${RUN}-${id}"] [data-field="cost"]`);

test("an operator's tenant goes from nothing to rated calls and a revoked PBX token", async ({ page, request }) => {
  test.setTimeout(180_000);
  const problems = collectProblems(page);

  // The operator: the tenant, its administrator, money on its account.
  await portalLogin(page, "admin", ADMIN_PASSWORD);
  await openPage(page, "Tenants", /\/tenants$/);
  await page.getByTestId("new-tenant").click();
  await page.getByTestId("field-name").fill(TENANT);
  await page.getByTestId("field-sip_domain").fill(DOMAIN);
  await page.getByTestId("field-currency").fill("EUR");
  await page.getByTestId("save-tenant").click();
  await expect(page.getByTestId("notice")).toHaveText("The tenant was saved.");

  await openPage(page, "Users", /\/users$/);
  await pickTenant(page, TENANT, DOMAIN);
  await page.getByTestId("new-user").click();
  await page.getByTestId("field-username").fill(CHIEF.username);
  await page.getByTestId("field-password").fill(CHIEF.password);
  await page.getByTestId("field-role").selectOption("Admin");
  await page.getByTestId("save-user").click();
  await expect(page.locator(`tr[data-username="${CHIEF.username}"] td[data-field=role]`)).toHaveText("Admin");

  await openPage(page, "Balances", /\/balances/);
  await expect(page.getByTestId("tenant-picker")).toBeVisible();
  await pickTenant(page, TENANT, DOMAIN);
  await page.getByTestId("recharge-form").getByTestId("field-balance").fill("50");
  await page.getByTestId("save-recharge").click();
  await expect(page.getByTestId("figure-balance")).toHaveText("50.00000 EUR");
  await logout(page);

  // The tenant administrator: billing on, the deck, a user.
  await portalLogin(page, CHIEF.username, CHIEF.password, DOMAIN);
  await openPage(page, "Billing", /\/billing$/);
  await page.getByTestId("billing-enabled").check();
  await page.getByTestId("save-billing").click();
  await expect(page.getByTestId("billing-saved")).toBeVisible();

  await openPage(page, "Call rates", /\/rates$/);
  const deck = path.join(os.tmpdir(), `ratedeck-journey-${RUN}.csv`);
  fs.writeFileSync(deck, `${DECK}\n`);
  await page.getByText("Upload a rate deck").click();
  await page.getByLabel("Deck (CSV file)").setInputFiles(deck);
  await page.getByTestId("deck-preview").click();
  await expect(page.getByTestId("count-new")).toHaveText("2");
  await expect(page.getByTestId("rate-row")).toHaveCount(0);
  await page.getByTestId("deck-commit").click();
  await expect(page.getByTestId("deck-done")).toContainText("The deck was imported: 2 new");
  await expect(page.getByTestId("rate-row")).toHaveCount(2);
  fs.rmSync(deck);

  await openPage(page, "Users", /\/users$/);
  await page.getByTestId("new-user").click();
  await page.getByTestId("field-username").fill("101");
  await page.getByTestId("field-password").fill("desk-password-1");
  await page.getByTestId("save-user").click();
  await expect(page.locator('tr[data-username="101"] td[data-field=role]')).toHaveText("StandardUser");

  // The PBX's token: a bad name is refused at its field; the secret shows once.
  await openPage(page, "API tokens", /\/tokens$/);
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("create-token").click();
  await expect(page.getByTestId("error-name")).toHaveText("must be 1 to 64 characters");
  const secret = await makeToken(page, "Head office PBX");
  await expect(page.getByTestId("new-token")).toContainText("it will not be shown again");
  await page.getByTestId("copy-token").click();
  await expect(page.getByTestId("copied")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const row = page.locator('tr[data-name="Head office PBX"]');
  await expect(row.locator('[data-field="last_used_at"]')).toHaveText("never");
  await expect(row.locator('[data-field="owner"]')).toContainText(CHIEF.username);
  await shoot(page, "journey-token-made");
  await page.getByTestId("dismiss-token").click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await page.reload();
  await expect(row).toHaveCount(1);
  expect(await page.content()).not.toContain(secret);

  // The PBX posts its calls with the token.
  const pbx = { Authorization: `Bearer ${secret}` };
  const posted = await request.post("/api/cdrs", {
    headers: pbx,
    data: [call("uk", "442071234567", 60), call("fr", "33142000000", 90)],
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).accepted).toBe(2);
  await page.reload();
  await expect(row.locator('[data-field="last_used_at"]')).not.toHaveText("never");

  // The calls with their cost, and as CSV.
  await openPage(page, "Calls", /\/cdrs$/);
  await expect(page.getByTestId("cdr-row")).toHaveCount(2);
  await expect(cost(page, "uk")).toHaveText("0.10000 EUR");
  await expect(cost(page, "fr")).toHaveText("0.60000 EUR");
  const csv = await download(page, "export-cdrs");
  expect(csv.name).toBe("cdrs.csv");
  const lines = csv.text.trim().split("\n");
  expect(lines).toHaveLength(3);
  expect(lines[0].startsWith("id,call_id,started_at")).toBe(true);
  const ukLine = lines.find((l) => l.includes(`journey-${RUN}-uk`));
  expect(ukLine).toContain("0.10000");
  expect(ukLine).toContain(",EUR,");
  await shoot(page, "journey-calls");

  // A dearer UK rate, then the calls re-rated.
  await openPage(page, "Call rates", /\/rates$/);
  const uk = page.locator('tr[data-prefix="44"]');
  await uk.getByTestId("edit").click();
  await page.getByTestId("field-price_1").fill("0.25");
  await page.getByTestId("field-price_n").fill("0.25");
  await page.getByTestId("save-rate").click();
  await expect(page.getByTestId("notice")).toHaveText("The rate was saved.");
  await expect(uk.locator('[data-field="price_1"]')).toHaveText("0.25");
  await openPage(page, "Calls", /\/cdrs$/);
  await page.getByTestId("rerate").click();
  await page.getByTestId("confirm-rerate").click();
  await expect(page.getByTestId("rerate-matched")).toHaveText("2");
  await expect(page.getByTestId("rerate-rerated")).toHaveText("1");
  await expect(page.getByTestId("rerate-unchanged")).toHaveText("1");
  await expect(page.getByTestId("rerate-delta")).toHaveText("0.15000 EUR");
  await expect(cost(page, "uk")).toHaveText("0.25000 EUR");
  await expect(cost(page, "fr")).toHaveText("0.60000 EUR");

  // The token is revoked, after a confirmation; the PBX is refused at once.
  await openPage(page, "API tokens", /\/tokens$/);
  await row.getByTestId("revoke").click();
  await expect(row).toContainText("Revoke it?");
  await shoot(page, "journey-token-revoking");
  await row.getByTestId("confirm-revoke").click();
  await expect(page.getByTestId("notice")).toContainText("“Head office PBX” is revoked");
  await expect(row).toHaveCount(0);
  const refused = await request.post("/api/cdrs", { headers: pbx, data: [call("late", "442071234568", 30)] });
  expect(refused.status()).toBe(401);

  // The audit log tells who did it, with which token, field by field.
  await openPage(page, "Audit log", /\/audit$/);
  await page.getByTestId("field-entity").selectOption("API_TOKEN");
  await page.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/entity=API_TOKEN/);
  const entries = page.getByTestId("audit-row");
  await expect(entries).toHaveCount(2);
  await expect(entries.first().locator('[data-field="action"]')).toHaveText("delete");
  await expect(entries.first().locator('[data-change-field="name"]')).toContainText("Head office PBX → none");
  await expect(entries.nth(1).locator('[data-field="action"]')).toHaveText("create");
  await page.getByTestId("field-entity").selectOption("CALL_RATE");
  await page.getByTestId("apply-filters").click();
  await expect(entries.first().locator('[data-change-field="price_1"]')).toContainText("0.1 → 0.25");
  await page.getByTestId("field-entity").selectOption("");
  await page.getByTestId("field-from").fill("2001-02-30");
  await page.getByTestId("apply-filters").click();
  await expect(page.getByTestId("error-from")).toHaveText("must be a day such as 2026-01-31");
  await page.getByTestId("field-from").fill("");
  await page.getByTestId("field-actor").fill(CHIEF.username);
  await page.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/actor=chief/);
  await shoot(page, "journey-audit");
  expect(problems).toEqual([]);
});
