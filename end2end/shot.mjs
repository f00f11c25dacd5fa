import { chromium } from "playwright-core";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-component-update","--no-first-run"] });
for (const js of [false, true]) {
  const ctx = await b.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto("http://127.0.0.1:8898/login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("admin-password-123");
  await page.getByRole("button", { name: /Log in/ }).click();
  await page.waitForTimeout(1500);
  const tenants = await page.evaluate(async () => (await (await fetch("/api/tenants?top=1", {})).text()));
  await page.goto("http://127.0.0.1:8898/");
  await page.waitForTimeout(1500);
  const sel = await page.$("select[data-testid=tenant-picker]");
  if (sel) { const opts = await sel.$$eval("option", os => os.map(o => o.value)); await page.goto("http://127.0.0.1:8898/?tenant=" + opts[opts.length-1]); await page.waitForTimeout(2000); }
  await page.screenshot({ path: `/tmp/home-js${js}.png`, fullPage: true });
  const html = await page.evaluate(() => document.querySelector("[data-testid=overview]")?.outerHTML ?? "none");
  console.log(js, html.slice(0, 600));
  await ctx.close();
}
await b.close();
