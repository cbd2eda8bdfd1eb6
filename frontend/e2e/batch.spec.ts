// The batch page: paste goals, start, watch the table fill in, open the report; desktop and phone.
import { expect, shot, test } from './helpers'

test('run a batch from the web app and open its report', async ({ page, request }) => {
  await page.goto('/')
  await page.getByRole('link', { name: 'Batch' }).click()
  await expect(page).toHaveURL(/#\/batch$/)
  await expect(page.getByRole('heading', { name: 'Batch run' })).toBeVisible()

  await page
    .getByLabel('Goals: one per line, or JSON Lines')
    .fill(
      [
        'exactly three red apples on a blue plate',
        '{"id": "sign", "goal": "a shop sign that reads OPEN"}',
      ].join('\n'),
    )
  await page.getByLabel('Rounds').fill('1')
  await expect(page.getByTestId('batch-estimate')).toContainText('$0.00')
  // The page loads the batch once, then follows its events stream: no polling while it runs.
  const gets: string[] = []
  page.on('request', (r) => {
    if (/\/api\/batches\/[0-9a-f]+(\/events)?$/.test(r.url())) gets.push(r.url())
  })
  await page.getByRole('button', { name: 'Start batch' }).click()
  await expect(page).toHaveURL(/#\/batch\/[0-9a-f]+$/) // the open batch is in the address

  const table = page.getByTestId('batch-table')
  await expect(table.locator('tbody tr')).toHaveCount(2)
  await shot(page, '20-batch-running')
  await expect(table.locator('tbody tr[data-status="done"]')).toHaveCount(2, { timeout: 60_000 })
  expect(gets.filter((url) => url.endsWith('/events'))).toHaveLength(1)
  expect(gets.filter((url) => !url.endsWith('/events')).length).toBeLessThanOrEqual(1) // the first load
  await expect(page.getByTestId('batch-status')).toHaveText('(done)')
  await expect(page.getByTestId('batch-summary')).toContainText('Done 2, failed 0')
  await expect(page.getByRole('img', { name: 'Best image of sign' })).toBeVisible()
  await shot(page, '21-batch-done')

  const report = page.getByRole('link', { name: 'Open report' })
  const reportUrl = await report.getAttribute('href')
  expect(reportUrl).toMatch(/\/api\/batches\/[0-9a-f]+\/files\/report\.html$/)
  const html = await request.get(reportUrl!)
  expect(html.status()).toBe(200)
  expect(await html.text()).toContain('id="goal-sign"')

  // Opened in the browser, the report is styled (its inline style allowed by the CSP's hash: the
  // test's CSP guard fails on any violation): first and best images side by side.
  const reportPage = await page.context().newPage()
  const violations: string[] = []
  reportPage.on(
    'console',
    (m) => /Content Security Policy|Refused to/i.test(m.text()) && violations.push(m.text()),
  )
  await reportPage.goto(reportUrl!)
  const figures = reportPage.locator('#goal-sign figure')
  await expect(figures).toHaveCount(2)
  const [firstBox, bestBox] = [(await figures.nth(0).boundingBox())!, (await figures.nth(1).boundingBox())!]
  expect(Math.abs(firstBox.y - bestBox.y)).toBeLessThan(2)
  expect(bestBox.x).toBeGreaterThan(firstBox.x + firstBox.width)
  expect(await reportPage.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
    'rgb(24, 24, 27)',
  )
  expect(violations).toEqual([])
  await reportPage.close()

  // A session of the batch opens in the ordinary session view.
  await table.locator('tbody tr[data-goal="sign"] a', { hasText: 'done' }).click()
  await expect(page).toHaveURL(/#\/s\/[0-9a-f]+(\/[a-z]+)?$/) // the step is added to the address
  await page.goBack()
  await expect(page.getByRole('heading', { name: 'Batch run' })).toBeVisible()
  await expect(table.locator('tbody tr[data-status="done"]')).toHaveCount(2) // still shown

  // Phone width: the page itself never scrolls sideways (the table scrolls in its own box).
  await page.setViewportSize({ width: 390, height: 844 })
  await page.getByRole('button', { name: 'Start batch' }).scrollIntoViewIfNeeded()
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
  ).toBeLessThanOrEqual(0)
  await shot(page, '22-batch-phone')
  await page.setViewportSize({ width: 1280, height: 900 })
})

test('a broken goals line is explained inline, naming the line, and Start waits for valid goals', async ({
  page,
}) => {
  await page.goto('/#/batch')
  // The same header and offline banner as every page.
  await expect(page.getByRole('link', { name: 'Batch' })).toHaveAttribute('aria-current', 'page')
  await expect(page.getByTestId('offline-banner')).toBeVisible()
  const goals = page.getByLabel('Goals: one per line, or JSON Lines')
  await goals.fill('a fox\n{"goal": ')
  await expect(page.getByTestId('goal-problems')).toContainText('Line 2: is not valid JSON')
  await expect(goals).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByRole('button', { name: 'Start batch' })).toBeDisabled()
  await expect(page.getByTestId('batch-estimate')).not.toContainText('Estimating')
  await goals.fill('a fox\n{"goal": "a hare"}')
  await expect(page.getByTestId('goal-problems')).toBeHidden()
  await expect(page.getByRole('button', { name: 'Start batch' })).toBeEnabled()
})
