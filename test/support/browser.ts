// A real browser for Web UI tests: Debian's chromium driven by playwright-core, as the machine's
// notes say it runs here (headless, no sandbox as root, no background networking). Missing: the
// caller skips loudly on a laptop and fails under CI=true.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but the Web UI tests cannot run: ${reason}`);
  console.warn(`\n${'!'.repeat(78)}\n!! WEB UI TESTS SKIPPED: ${reason}\n${'!'.repeat(78)}\n`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Start a workflow from the Temporal Web UI's form as a person does: click each field and type into
 * it (the form only sees real key events), type the JSON input on one line into the editor, click
 * away from it, then click Start Workflow once. Resolves when the UI has asked the server to start.
 */
export async function startFromWebUi(
  page: Page,
  uiUrl: string,
  run: { workflowId: string; taskQueue: string; workflowType: string; input: unknown },
): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow`, { waitUntil: 'networkidle' });
  const typeInto = async (selector: string, text: string) => {
    await page.click(selector);
    await page.keyboard.type(text, { delay: 5 });
  };
  await typeInto('#workflowId', run.workflowId);
  await typeInto('#taskQueue', run.taskQueue);
  await typeInto('#workflowType', run.workflowType);
  // One line: the editor closes brackets and quotes itself and types over them on one line.
  await typeInto('.cm-content', JSON.stringify(run.input));
  await page.click('h1');
  const started = page.waitForRequest(
    (r) => r.method() === 'POST' && r.url().includes(`/workflows/${encodeURIComponent(run.workflowId)}`),
    { timeout: 15_000 },
  );
  await page.click('[data-testid="start-workflow-button"]');
  const response = await (await started).response();
  if (!response?.ok())
    throw new Error(`the Web UI's start answered ${response?.status()}: ${await response?.text()}`);
}
