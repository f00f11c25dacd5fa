import { defineConfig, devices } from "@playwright/test";

/**
 * Browser tests of the portal. scripts/test.sh builds the site,
 * starts the server on 127.0.0.1:8887 and runs `playwright test` here;
 * `global-setup.ts` waits for the server to answer. RATEDECK_E2E_BASE_URL
 * points the tests at a server elsewhere.
 *
 * The browser is Debian's chromium: never `npx playwright install`.
 */
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: process.env.RATEDECK_E2E_BASE_URL ?? "http://127.0.0.1:8887",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
});
