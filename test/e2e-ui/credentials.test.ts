/**
 * Credentials that need the user, in the app end to end (issue 8), in Chromium, in web mode:
 * profiles of a temporary AWS config (AWS_CONFIG_FILE, HOME for the SSO token cache) pointed at
 * a standalone sandbox with a small fleet of its own, so a profile's instances are told apart
 * from the embedded sandbox's.
 *  - MFA: switching (in the profile switcher) to an assume-role profile with mfa_serial opens
 *    the MFA dialog naming the profile, the role and the device. Cancel leaves a clear error
 *    (Retry asks again) and the previous profile still works; a wrong code comes back with STS's
 *    refusal as the dialog's error and it asks again; the right code (TOTP from the sandbox's
 *    public secret) lists that profile's instances.
 *  - SSO: an sso_session profile; switching to it opens the sign-in dialog with the URL and the
 *    user code the sandbox issued; a request denied on the sandbox ends in a clear error; "Sign
 *    in" asks again, the request is approved on the sandbox's sign-in page (opened from the
 *    dialog), the dialog closes by itself and the instances list.
 * Screenshots: test/artifacts/ui/credentials-*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_ACCOUNT_ID,
  SANDBOX_MFA_SECRET,
  SANDBOX_MFA_SERIAL,
  totp,
  verifyTotp,
} from '../../main/sandbox/credentials.js';
import { defaultFleet } from '../../main/sandbox/fleet.js';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import { tempAwsConfig, type TempAwsConfig } from '../helpers/aws-profile.js';
import { CHROMIUM, startUi, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

const REGION = 'eu-west-1';
const START_URL = 'https://corp.awsapps.com/start';
const MFA_ROLE = `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/SandboxMfa`;
const CORP_NAMES = ['corp-1', 'corp-2', 'corp-3'];

/** The standalone sandbox's fleet: three instances with names the embedded sandbox has not. */
function corpFleet() {
  return defaultFleet(REGION)
    .slice(0, CORP_NAMES.length)
    .map((i, n) => ({ ...i, name: CORP_NAMES[n]!, tags: { ...i.tags, Name: CORP_NAMES[n]! } }));
}

function awsConfig(endpoint: string): string {
  const common = `region = ${REGION}\nendpoint_url = ${endpoint}\n`;
  return [
    `[profile base]\n${common}`,
    `[profile mfa]\n${common}source_profile = base\nrole_arn = ${MFA_ROLE}\nmfa_serial = ${SANDBOX_MFA_SERIAL}\n`,
    `[profile sso-dev]\n${common}sso_session = corp\nsso_account_id = ${SANDBOX_ACCOUNT_ID}\nsso_role_name = SandboxAdmin\n`,
    `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = ${REGION}\nsso_registration_scopes = sso:account:access\n`,
  ].join('\n');
}

/** A 6-digit code the MFA device does not show now (nor a step either side). */
function wrongCode(): string {
  for (let n = 0; ; n++) {
    const code = String((Number(totp(SANDBOX_MFA_SECRET)) + 500_000 + n) % 1_000_000).padStart(6, '0');
    if (!verifyTotp(SANDBOX_MFA_SECRET, code)) return code;
  }
}

const dialog = (page: Page) => page.getByTestId('credential-prompt');

/** The names of the instance rows shown, sorted. */
async function rowNames(page: Page): Promise<string[]> {
  return (await page.locator('[data-testid="instance-row"] .row-name').allInnerTexts()).sort();
}

/** Switch profile through the switcher, as a user does. */
async function switchTo(page: Page, profile: string): Promise<void> {
  await page.getByTestId('profile-select').selectOption(profile);
}

/** A prompt with another id than `previous` is showing; its id. */
async function nextPrompt(page: Page, previous: string | null = null): Promise<string> {
  await expect
    .poll(
      () =>
        dialog(page)
          .getAttribute('data-prompt-id', { timeout: 200 })
          .catch(() => null),
      {
        timeout: 15_000,
      },
    )
    .not.toBe(previous);
  const id = await dialog(page).getAttribute('data-prompt-id');
  expect(id).toBeTruthy();
  return id!;
}

/** Elements of the dialog whose text is cut or spills out (the URL line ellipsizes on purpose), and whether the dialog fits the window. */
async function layoutProblems(page: Page): Promise<string[]> {
  return dialog(page).evaluate((root) => {
    const out: string[] = [];
    const box = root.getBoundingClientRect();
    if (box.left < 0 || box.top < 0 || box.right > window.innerWidth || box.bottom > window.innerHeight)
      out.push(`the dialog does not fit the window: ${JSON.stringify(box)}`);
    for (const el of root.querySelectorAll<HTMLElement>('*')) {
      if (el.classList.contains('url') || el.closest('svg')) continue;
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
        out.push(`${el.tagName.toLowerCase()}.${el.className}: cut (${el.scrollWidth} > ${el.clientWidth})`);
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1))
        out.push(`${el.tagName.toLowerCase()}.${el.className}: outside the dialog`);
    }
    return out;
  });
}

describe.skipIf(!haveChromium)('credential prompts in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let corp: SandboxHandle;
  let aws: TempAwsConfig;
  let sandboxNames: string[] = [];

  /** The embedded sandbox's instances are listed, without an error. */
  async function sandboxListed(): Promise<void> {
    await expect.poll(() => rowNames(page), { timeout: 15_000 }).toEqual(sandboxNames);
    expect(await page.getByTestId('instances-error').count()).toBe(0);
  }

  beforeAll(async () => {
    corp = await startSandbox({ port: 0, region: REGION, fleet: corpFleet() });
    // Before the workspace starts: it lists (and resolves) the profiles of these files.
    aws = await tempAwsConfig(
      awsConfig(corp.endpoint),
      `[base]\naws_access_key_id = ${corp.credentials.accessKeyId}\naws_secret_access_key = ${corp.credentials.secretAccessKey}\n`,
    );
    ui = await startUi();
    page = ui.page;
    sandboxNames = ui.sandbox.fleet
      .list()
      .map((i) => i.name)
      .sort();
    await page.locator('[data-testid="instance-row"]').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    await aws?.restore();
    await corp?.close();
  });

  it('switching to an MFA profile asks for the code (profile, role, device); Cancel leaves a clear error, Retry asks again, the previous profile still works', async () => {
    await sandboxListed();
    await switchTo(page, 'mfa');
    const first = await nextPrompt(page);
    const d = dialog(page);
    expect(await d.getAttribute('data-kind')).toBe('mfa');
    expect(await d.getByRole('heading').innerText()).toBe('MFA code needed');
    expect(await page.getByTestId('prompt-profile').innerText()).toBe('mfa');
    expect(await page.getByTestId('mfa-role').innerText()).toBe(MFA_ROLE);
    expect(await page.getByTestId('mfa-serial').innerText()).toBe(SANDBOX_MFA_SERIAL);
    expect(await page.getByTestId('prompt-message').innerText()).toBe(
      `Enter the code your MFA device shows now to use the profile "mfa".`,
    );
    // Nothing wrong yet; the code field has the focus; Submit waits for 6 digits.
    expect(await page.getByTestId('mfa-problem').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('mfa-code').evaluate((el) => el === document.activeElement))
      .toBe(true);
    expect(await page.getByTestId('prompt-submit').isDisabled()).toBe(true);
    expect(await layoutProblems(page)).toEqual([]);
    await ui.screenshot('credentials-mfa');

    await page.getByTestId('prompt-cancel').click();
    await d.waitFor({ state: 'detached' });
    const error = page.getByTestId('instances-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.innerText()).toContain(
      `Profile "mfa": the MFA prompt for ${SANDBOX_MFA_SERIAL} was cancelled. Try again when you have the MFA device at hand`,
    );
    // The switch itself happened (the profile needs the code only to list): it stays selected.
    expect(await page.getByTestId('profile-select').inputValue()).toBe('mfa');
    expect(await rowNames(page)).toEqual([]);
    // Cancelled here: no toast besides the error.
    expect(await page.getByTestId('toast').count()).toBe(0);
    await ui.screenshot('credentials-mfa-cancelled');

    // Retry asks again; Escape cancels too.
    await page.getByTestId('instances-retry').click();
    await nextPrompt(page, first);
    await page.getByTestId('mfa-code').press('Escape');
    await d.waitFor({ state: 'detached' });
    await error.waitFor({ timeout: 15_000 });
    expect(await error.innerText()).toContain('was cancelled');

    await switchTo(page, 'sandbox');
    await sandboxListed();
    expect(await page.getByTestId('profile-select').inputValue()).toBe('sandbox');
  });

  it("a wrong code comes back with STS's refusal and is asked again; the right code lists the profile's instances", async () => {
    await switchTo(page, 'mfa');
    const first = await nextPrompt(page);
    const wrong = wrongCode();
    await page.getByTestId('mfa-code').fill(wrong);
    await page.getByTestId('mfa-code').press('Enter');

    const second = await nextPrompt(page, first);
    const problem = page.getByTestId('mfa-problem');
    expect(await problem.innerText()).toBe(
      `STS refused the code ${wrong} (MultiFactorAuthentication failed with invalid MFA one time pass code). Enter the code the device shows now.`,
    );
    expect(await problem.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('mfa-code').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('mfa-code').inputValue()).toBe('');
    await expect
      .poll(() => page.getByTestId('mfa-code').evaluate((el) => el === document.activeElement))
      .toBe(true);
    expect(await layoutProblems(page)).toEqual([]);
    await ui.screenshot('credentials-mfa-retry');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await ui.screenshot('credentials-mfa-retry-light');
    await page.emulateMedia({ colorScheme: 'dark' });

    await page.getByTestId('mfa-code').pressSequentially(totp(SANDBOX_MFA_SECRET));
    expect(await problem.count()).toBe(0); // gone once typing
    await page.getByTestId('prompt-submit').click();
    await dialog(page).waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => rowNames(page), { timeout: 15_000 }).toEqual(CORP_NAMES);
    expect(await page.getByTestId('instances-error').count()).toBe(0);
    expect(await page.getByTestId('profile-select').inputValue()).toBe('mfa');
    // Answered once: the credentials are cached, a refresh asks nothing.
    await page.getByTestId('instances-refresh').click();
    await page.waitForTimeout(300);
    expect(await dialog(page).count()).toBe(0);
    expect(second).not.toBe(first);
  });

  it('switching to an SSO profile shows the sign-in dialog with the code the sandbox issued; a denied sign-in ends in a clear error', async () => {
    await switchTo(page, 'sandbox');
    await sandboxListed();
    await switchTo(page, 'sso-dev');
    await nextPrompt(page);
    const d = dialog(page);
    expect(await d.getAttribute('data-kind')).toBe('sso');
    expect(await d.getByRole('heading').innerText()).toBe('Sign in with AWS SSO');
    expect(await page.getByTestId('prompt-profile').innerText()).toBe('sso-dev');
    const pending = corp.sso.listAuthorizations().filter((a) => a.status === 'pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ startUrl: START_URL, clientName: 'ec2-connect-corp' });
    const code = pending[0]!.userCode;
    expect(await page.getByTestId('sso-user-code').innerText()).toBe(code);
    expect(await page.getByTestId('sso-open').getAttribute('href')).toBe(
      `${corp.endpoint}/device?user_code=${code}`,
    );
    expect(await page.getByTestId('prompt-message').innerText()).toContain(
      `Sign in to IAM Identity Center (${START_URL}) for the profile "sso-dev"`,
    );
    expect(await page.getByTestId('sso-expiry').innerText()).toMatch(
      /the code expires in\s+(10:00|9:[0-5]\d)/,
    );
    await expect
      .poll(() => page.getByTestId('sso-open').evaluate((el) => el === document.activeElement))
      .toBe(true);
    expect(await layoutProblems(page)).toEqual([]);
    await ui.screenshot('credentials-sso');

    corp.sso.act(code, 'deny');
    await d.waitFor({ state: 'detached', timeout: 15_000 });
    const error = page.getByTestId('instances-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.innerText()).toContain(
      `Profile "sso-dev": the sign-in request ${code} was denied in the browser.`,
    );
    expect(await error.innerText()).toContain('again and choose Allow');
    // Not reported as "cancelled": the user answered (no in the browser).
    expect((await page.getByTestId('toast').allInnerTexts()).join('\n')).not.toMatch(/cancelled/i);
    expect(await page.getByTestId('profile-sign-in').getAttribute('data-profile')).toBe('sso-dev');
    await ui.screenshot('credentials-sso-denied');
  });

  it('"Sign in" shows a new code; approved on the sandbox\'s sign-in page, the dialog closes by itself and the instances list', async () => {
    const denied = corp.sso.listAuthorizations()[0]!.userCode;
    await page.getByTestId('profile-sign-in').click();
    await nextPrompt(page);
    expect(await page.getByTestId('profile-sign-in').innerText()).toBe('Signing in…');
    const code = await page.getByTestId('sso-user-code').innerText();
    expect(code).not.toBe(denied);
    expect(corp.sso.listAuthorizations().find((a) => a.status === 'pending')?.userCode).toBe(code);

    // "Open sign-in page": a new tab on the sandbox's verification page, which shows the code.
    const [tab] = await Promise.all([ui.context.waitForEvent('page'), page.getByTestId('sso-open').click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`${corp.endpoint}/device?user_code=${code}`);
    expect(await tab.locator('code').innerText()).toBe(code);
    await tab.getByRole('button', { name: 'Allow' }).click();
    await tab.getByRole('heading', { name: 'Request approved' }).waitFor();
    await tab.close();

    await dialog(page).waitFor({ state: 'detached', timeout: 15_000 });
    expect(corp.sso.listAuthorizations().find((a) => a.userCode === code)?.status).toBe('redeemed');
    const toast = page.getByTestId('toast').filter({ hasText: 'Signed in' });
    await toast.waitFor({ timeout: 15_000 });
    expect(await toast.innerText()).toContain('Signed in to sso-dev until');
    await expect.poll(() => rowNames(page), { timeout: 15_000 }).toEqual(CORP_NAMES);
    expect(await page.getByTestId('instances-error').count()).toBe(0);
    expect(await page.getByTestId('profile-sign-in').innerText()).toBe('Sign in');
    await ui.screenshot('credentials-sso-signed-in');
  });

  it('had no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
