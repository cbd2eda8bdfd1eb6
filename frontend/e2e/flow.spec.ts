// The whole flow a person goes through: goal -> prompt edit -> generate -> feedback -> optimize ->
// result -> download, in demo mode against the real backend.
import { describeGoal, expect, sessionIdOf, shot, test } from './helpers'

test('goal to downloaded result, with live progress', async ({ page, request }) => {
  // Step 1: describe.
  await page.goto('/')
  await expect(page.getByTestId('offline-banner')).toContainText('OPENROUTER_API_KEY')
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1)
  await expect(page.getByRole('radio', { name: /OpenAI/ })).toContainText('Needs API key')
  await expect(page.getByRole('radio', { name: /Offline demo/ })).toContainText('Demo')
  await page.getByLabel('What do you want to see?').fill('A red fox asleep in fresh snow at dawn')
  await page.getByRole('radio', { name: /Offline demo/ }).click()
  await page.getByRole('radio', { name: '16:9' }).click()
  await expect(page.getByRole('radio', { name: '16:9' })).toHaveAttribute('aria-checked', 'true')
  await page.getByLabel('Seed').fill('7')
  await shot(page, '01-describe')
  // Ctrl+Enter submits the current step.
  await page.getByLabel('What do you want to see?').press('Control+Enter')

  // Step 2: edit a FLEX block, lock another, generate.
  await expect(page.getByRole('heading', { name: 'Starting prompt' })).toBeVisible()
  const id = sessionIdOf(page)
  const before = (await (await request.get(`/api/sessions/${id}`)).json()) as {
    prompt_text: string
    image_params: Record<string, unknown>
  }
  expect(before.image_params).toMatchObject({ aspect_ratio: '16:9', seed: 7 })
  const subject = page.getByRole('textbox', { name: /^Subject/ })
  await subject.fill('a red fox curled up asleep in fresh snow, tail over its nose')
  await page.getByRole('button', { name: 'Lock Lighting' }).click()
  await expect(page.getByRole('button', { name: 'Unlock Lighting' })).toHaveAttribute('aria-pressed', 'true')
  await page.getByRole('button', { name: 'Raw text' }).click()
  await expect(page.getByLabel('Raw prompt text')).toHaveValue(/tail over its nose/)
  await page.getByRole('button', { name: 'Show blocks' }).click()
  await shot(page, '02-prompt')
  await page.getByRole('button', { name: 'Generate', exact: true }).click()

  // Step 3: review the first image.
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await expect(page.getByText('/100').first()).toBeVisible()
  const saved = (await (await request.get(`/api/sessions/${id}`)).json()) as {
    prompt_text: string
    locked_blocks: string[]
  }
  expect(saved.locked_blocks).toEqual(['lighting'])
  // Only the subject block changed; the frame and the other blocks are byte-identical.
  const oldSubject = /## FLEX_BEGIN:subject\n([\s\S]*?)\n## FLEX_END:subject/.exec(before.prompt_text)![1]
  expect(saved.prompt_text).toBe(
    before.prompt_text.replace(oldSubject, 'a red fox curled up asleep in fresh snow, tail over its nose'),
  )
  await page.getByLabel(/What should change/).fill('warmer light and a closer crop on the fox')
  await page.getByLabel('Rounds').fill('2')
  await shot(page, '03-review')
  await page.getByRole('button', { name: 'Improve' }).click()

  // Step 4: live progress, then the result.
  const progress = page.getByTestId('live-progress')
  await expect(progress).toBeVisible()
  await expect(progress).toContainText(/Round \d of 2/)
  await shot(page, '04-optimizing')
  await expect(progress).toBeHidden({ timeout: 60_000 })
  await expect(page.getByTestId('stop-reason')).toBeVisible()
  const timeline = page.getByTestId('timeline')
  await expect(timeline.locator('li[data-index]')).toHaveCount(3)
  await expect(timeline.locator('li[data-best="true"]')).toHaveCount(1)
  await expect(page.getByTestId('score-chart')).toBeVisible()
  await expect(page.getByTestId('compare').locator('[data-block]')).toHaveCount(7)
  // The prompt shown (and copied) is what the provider received: no FLEX markers, no note lines.
  await expect(page.getByTestId('final-prompt')).toContainText('a red fox curled up')
  await expect(page.getByTestId('final-prompt')).not.toContainText('FLEX_BEGIN')
  await expect(page.getByTestId('recommendations').locator('li').first()).toBeVisible()
  await shot(page, '05-result')

  // Reload keeps the session.
  await page.reload()
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(3)

  // Download: a zip with the session.
  const link = page.getByRole('link', { name: 'Download session (.zip)' })
  await expect(link).toHaveAttribute('href', `/api/sessions/${id}/download`)
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
  expect(download.suggestedFilename()).toMatch(/\.zip$/)
  const zip = await request.get(`/api/sessions/${id}/download`)
  expect(zip.status()).toBe(200)
  expect(zip.headers()['content-type']).toContain('application/zip')
  const body = await zip.body()
  expect(body.subarray(0, 2).toString()).toBe('PK')
  expect(body.includes(Buffer.from('final_prompt.txt'))).toBe(true)

  // One more round from the result page.
  await page.getByRole('button', { name: 'Keep improving…' }).click()
  await page.getByLabel(/next round change/).fill('more mist')
  await page.getByRole('button', { name: 'Run 1 more round' }).click()
  await expect(page.getByTestId('live-progress')).toBeVisible()
  await expect(page.getByTestId('live-progress')).toBeHidden({ timeout: 60_000 })
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(4)
})

test('accepting the first image finishes the session', async ({ page }) => {
  await describeGoal(page, 'A lighthouse on a cliff in a storm')
  await page.getByRole('button', { name: 'Generate', exact: true }).click()
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await page.getByRole('button', { name: 'Accept' }).click()
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(1)
  await expect(page.getByTestId('final-prompt')).toBeVisible()
  await expect(page.getByRole('link', { name: 'Download session (.zip)' })).toBeVisible()
})
