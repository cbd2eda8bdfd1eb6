// Shared steps for the browser tests.
import { type APIRequestContext, expect, type Page, test } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url))

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

export interface ApiSession {
  session_id: string
  status: string
  prompt_text: string
  final_prompt_text: string | null
  final_prompt_rendered: string | null
  best_index: number | null
  checklist: { id: string; question: string; source: string }[]
  iterations: { index: number; round: number; candidate: number; prompt_text: string; pairwise: unknown }[]
  run: { stop_reason: string | null; candidates: number } | null
}

export async function getSession(request: APIRequestContext, id: string): Promise<ApiSession> {
  return (await (await request.get(`/api/sessions/${id}`)).json()) as ApiSession
}
