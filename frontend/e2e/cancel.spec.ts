// Cancelling an optimize run mid-way keeps what was finished and says so.
import { describeGoal, expect, sessionIdOf, shot, test } from './helpers'

test('cancel mid-run', async ({ page, request }) => {
  await describeGoal(page, 'A paper boat on a rainy street')
  await page.getByRole('button', { name: 'Generate', exact: true }).click()
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await page.getByLabel('Rounds').fill('10')
  await page.getByRole('button', { name: 'Improve' }).click()

  const progress = page.getByTestId('live-progress')
  await expect(progress).toBeVisible()
  // Let one iteration land so there is something to keep.
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(2, {
    timeout: 30_000,
  })
  await page.getByRole('button', { name: 'Cancel' }).click()
  // The run stops after the step in flight: the button says so while that step ends (it may be quick).
  const cancelling = progress.getByRole('button', { name: /Cancelling/ })
  await expect(cancelling.or(page.getByTestId('stop-reason'))).toBeVisible()
  await expect(progress.getByRole('button', { name: /Cancelling/, disabled: false })).toHaveCount(0)
  await shot(page, '06-cancelling')
  await expect(progress).toBeHidden({ timeout: 30_000 })
  await expect(page.getByTestId('stop-reason')).toContainText('Cancelled')
  await shot(page, '07-cancelled')

  const session = (await (await request.get(`/api/sessions/${sessionIdOf(page)}`)).json()) as {
    status: string
    iterations: unknown[]
    run: { stop_reason: string }
  }
  expect(session.run.stop_reason).toBe('cancelled')
  expect(session.iterations.length).toBeLessThan(11)
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(session.iterations.length)
})
