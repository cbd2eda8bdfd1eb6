// Reopening sessions from History: a finished one, a running one (attaches to the live stream).
import { apiSessionWithImage, expect, shot, test } from './helpers'

test('reopen a session from history and follow a running one live', async ({ page, request }) => {
  const reviewed = await apiSessionWithImage(request, 'A bowl of ramen, steam rising')
  const running = await apiSessionWithImage(request, 'A glass greenhouse at night')

  await page.goto('/#/history')
  const list = page.getByTestId('history-list')
  await expect(list.locator(`[data-session="${reviewed}"]`)).toBeVisible()
  await shot(page, '08-history')

  // A reviewed session opens on the review step.
  await list.locator(`[data-session="${reviewed}"]`).click()
  await expect(page).toHaveURL(new RegExp(`#/s/${reviewed}(/review)?$`))
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Improve' })).toBeVisible()

  // Start a run elsewhere (as another tab would), then reopen: the page attaches to its events.
  const started = await request.post(`/api/sessions/${running}/optimize/run`, {
    data: { iterations_count: 6, wait: false },
  })
  expect(started.status()).toBe(202)
  await page.getByRole('button', { name: 'History' }).click()
  await page.getByTestId('history-list').locator(`[data-session="${running}"]`).click()
  await expect(page.getByTestId('live-progress')).toBeVisible()
  await shot(page, '09-reopened-running')
  await expect(page.getByTestId('live-progress')).toBeHidden({ timeout: 60_000 })
  const after = (await (await request.get(`/api/sessions/${running}`)).json()) as { iterations: unknown[] }
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(after.iterations.length)

  // The result page at phone width: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 })
  await page.getByRole('heading', { name: 'Compare two iterations' }).click()
  await expect(page.getByTestId('compare')).toBeVisible()
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
  ).toBeLessThanOrEqual(0)
  await shot(page, '13-phone-result')
  await page.setViewportSize({ width: 1280, height: 900 })

  // ?session= links work too and turn into the hash route.
  await page.goto(`/?session=${reviewed}`)
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await expect(page).toHaveURL(new RegExp(`#/s/${reviewed}(/review)?$`))
})

test('an unknown session says so and offers a way out', async ({ page }) => {
  await page.goto('/#/s/00000000000000000000000000000000')
  await expect(page.getByRole('alert')).toContainText('Not found')
  await expect(page.getByRole('button', { name: 'Open history' })).toBeVisible()
})
