// Shared steps for the browser tests, and the `test` every spec uses.
import { type APIRequestContext, test as base, expect, type Page } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import type { Session } from '../src/lib/types'

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url))

/**
 * Playwright's `test`, plus a guard on every page: the server's Content-Security-Policy must not
 * block anything the app does (a blocked script, style, image or request fails the test).
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ page }, use) => {
      const blocked: string[] = []
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) blocked.push(message.text())
      })
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(`Refused to load: CSP ${event.violatedDirective} blocked ${event.blockedURI}`)
        })
      })
      await use()
      expect(blocked, 'the Content-Security-Policy blocked part of the app').toEqual([])
    },
    { auto: true },
  ],
})
export { expect }

/**
 * Save a full-page screenshot to e2e/screenshots/<name>.png (gitignored), and with `first` the
 * first screen alone (<name>-first.png), suffixed with the project (desktop/phone) when there are several.
 */
export async function shot(page: Page, name: string, opts: { first?: boolean } = {}) {
  mkdirSync(SHOTS, { recursive: true })
  const project = test.info().project.name
  const file = project && project !== 'desktop' ? `${name}-${project}` : name
  await page.screenshot({ path: `${SHOTS}${file}.png`, fullPage: true })
  if (opts.first) await page.screenshot({ path: `${SHOTS}${file}-first.png` })
}

/** Fill in step 1 with the demo provider and submit; resolves on step 2. */
export async function describeGoal(page: Page, goal: string) {
  await page.goto('/')
  await page.getByLabel('What do you want to see?').fill(goal)
  await page.getByRole('radio', { name: /Offline demo/ }).click()
  await page.getByRole('button', { name: 'Write my prompt' }).click()
  await expect(page).toHaveURL(/#\/s\/[0-9a-f]+/)
  await expect(page.getByRole('heading', { name: 'Starting prompt' })).toBeVisible()
}

export function sessionIdOf(page: Page): string {
  const m = /#\/s\/([0-9a-f]+)/.exec(page.url())
  if (!m) throw new Error(`no session in ${page.url()}`)
  return m[1]
}

/** A demo session made straight through the API, with its first image generated. */
export async function apiSessionWithImage(request: APIRequestContext, goal: string) {
  const created = await request.post('/api/sessions', {
    data: { goal, provider: 'demo', iterations_count: 2 },
  })
  expect(created.status()).toBe(201)
  const { session_id } = (await created.json()) as { session_id: string }
  const generated = await request.post(`/api/sessions/${session_id}/generate`, { data: { wait: true } })
  expect(generated.status()).toBe(200)
  return session_id
}

/** A demo session optimized through the API (rounds x candidates), waited for until done. */
export async function apiOptimizedSession(
  request: APIRequestContext,
  goal: string,
  body: Record<string, unknown> = { iterations_count: 2, candidates: 2 },
) {
  const id = await apiSessionWithImage(request, goal)
  const run = await request.post(`/api/sessions/${id}/optimize/run`, { data: { ...body, wait: true } })
  expect(run.status()).toBe(200)
  return id
}

/** A session as the API answers it (the generated contract types). */
export type ApiSession = Session

export async function getSession(request: APIRequestContext, id: string): Promise<ApiSession> {
  return (await (await request.get(`/api/sessions/${id}`)).json()) as ApiSession
}
