/**
 * Waits until the server that scripts/test.sh started answers: the tests
 * run right after it is launched.
 */
const BASE_URL = process.env.RATEDECK_E2E_BASE_URL ?? "http://127.0.0.1:8887";
const WAIT_MS = Number(process.env.RATEDECK_E2E_WAIT_MS ?? 120_000);

export default async function globalSetup(): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${BASE_URL}/login`);
      if (response.ok) {
        return;
      }
      last = `HTTP ${response.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the server at ${BASE_URL} did not answer within ${WAIT_MS} ms (${last})`);
}
