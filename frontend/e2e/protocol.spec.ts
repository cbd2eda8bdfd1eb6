// Issue 7 in the web app: the checklist before a run, the estimate, candidates per round, live
// slots and cost meter, pairwise outcomes and checklist ticks per candidate, the stop reason.
// Runs on a desktop and on a phone.
import { apiSessionWithImage, expect, getSession, shot, test } from './helpers'

test('checklist, estimate and candidates before the run; slots and cost during it; pairwise after', async ({
  page,
  request,
}) => {
  const id = await apiSessionWithImage(request, 'A red fox asleep in fresh snow at dawn')
  const before = await getSession(request, id)
  await page.goto(`/#/s/${id}`)
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/review$`))

  // The checklist: edit one question, delete one, add one, save.
  const editor = page.getByTestId('checklist-editor')
  await expect(editor.getByRole('textbox', { name: /Checklist question/ })).toHaveCount(
    before.checklist.length,
  )
  await editor.getByRole('textbox', { name: 'Checklist question 1' }).fill('Is there exactly one red fox?')
  await editor.getByRole('button', { name: `Delete question ${before.checklist.length}` }).click()
  await editor
    .getByRole('textbox', { name: 'New checklist question' })
    .fill('Is the snow lit by a low dawn sun?')
  await editor.getByRole('button', { name: 'Add', exact: true }).click()
  await expect(editor).toContainText('Unsaved checklist changes')
  // Unsaved checklist edits hold the run back, with the reason beside the button.
  await expect(page.getByRole('button', { name: 'Improve' })).toBeDisabled()
  await expect(page.getByTestId('blocked-reason')).toContainText('checklist')
  await shot(page, '20-checklist-edit')
  await editor.getByRole('button', { name: 'Save checklist' }).click()
  await expect(editor).not.toContainText('Unsaved checklist changes')
  const saved = await getSession(request, id)
  expect(saved.checklist.map((q) => q.question)).toEqual([
    'Is there exactly one red fox?',
    ...before.checklist.slice(1, -1).map((q) => q.question),
    'Is the snow lit by a low dawn sun?',
  ])
  expect(saved.checklist[0].id).toBe(before.checklist[0].id)

  // The estimate follows rounds and candidates; demo mode says $0 and why.
  const estimate = page.getByTestId('estimate')
  await expect(estimate).toContainText('$0')
  await expect(estimate).toContainText('demo mode')
  await page.getByLabel('Rounds').fill('3')
  // Candidates: a radio group, arrow keys move the choice.
  const one = page.getByRole('radio', { name: '1', exact: true })
  await expect(one).toHaveAttribute('aria-checked', 'true')
  await one.focus()
  await page.keyboard.press('ArrowRight')
  await expect(page.getByRole('radio', { name: '2', exact: true })).toHaveAttribute('aria-checked', 'true')
  await expect(page.getByRole('radio', { name: '2', exact: true })).toBeFocused()
  await expect(estimate).toContainText('3 rounds × 2 candidates = 6 images')
  await expect(estimate).toContainText('text-model calls')
  await shot(page, '21-estimate')
  await page.getByRole('button', { name: 'Improve' }).click()

  // During the run: planned slots from the start, the current one labelled, progress, cost meter.
  const progress = page.getByTestId('live-progress')
  await expect(progress).toBeVisible()
  // A checklist change is refused while the run goes on.
  const refused = await request.put(`/api/sessions/${id}/checklist`, {
    data: { checklist: [{ question: 'Is it a fox?' }] },
  })
  expect(refused.status()).toBe(409)
  await expect(progress.locator('[data-testid="slots"] > li')).toHaveCount(6)
  await expect(progress.locator('[data-testid="slots"] > li[aria-current="step"]').first()).toBeVisible()
  await expect(progress.getByRole('progressbar')).toHaveAttribute('aria-valuemax', '6')
  await expect(progress.getByTestId('cost-meter')).toContainText('$0 (demo)')
  await expect(progress.getByTestId('progress-times')).toContainText('elapsed')
  // The newest image before the screenshots: on a busy machine taking them outlasts the demo run.
  await expect(progress.getByTestId('newest-image')).toBeVisible({ timeout: 30_000 })
  await shot(page, '22-running', { first: true })
  await shot(page, '22-running-newest', { first: true })
  await expect(progress).toBeHidden({ timeout: 60_000 })

  // After: the stop reason in plain words, candidates grouped by round, pairwise badges, ticks.
  await expect(page.getByTestId('stop-reason')).toContainText(/Finished: all 3 planned rounds ran|Stopped:/)
  await expect(page.getByTestId('total-cost')).toContainText('$0')
  const round1 = page.getByRole('region', { name: 'Round 1' })
  await expect(round1.locator('li[data-index]')).toHaveCount(2)
  await expect(round1).toContainText('2 candidates')
  const done = await getSession(request, id)
  const compared = done.iterations.filter((it) => it.pairwise).length
  expect(compared).toBeGreaterThanOrEqual(1)
  const badges = page.getByTestId('pairwise')
  await expect(badges).toHaveCount(compared)
  await expect(badges.first()).toContainText(/^(Won|Tie|Lost) vs #\d+/)
  await expect(badges.first()).toContainText('Asked twice')
  const card = round1.locator('li[data-index]').first()
  await card.getByText('Judge notes and checklist').click()
  const ticks = card.getByTestId('checklist-ticks')
  await expect(ticks).toContainText('Is there exactly one red fox?')
  await expect(ticks.locator('li[data-answer]')).toHaveCount(saved.checklist.length)
  expect(done.run?.candidates).toBe(2)
  await shot(page, '23-result-protocol')
})

test('the stop reason says when the target was reached', async ({ page, request }) => {
  const id = await apiSessionWithImage(request, 'A lighthouse on a cliff in a storm')
  const run = await request.post(`/api/sessions/${id}/optimize/run`, {
    data: { iterations_count: 3, target_score: 50, wait: true },
  })
  expect(run.status()).toBe(200)
  await page.goto(`/#/s/${id}`)
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped: the target score 50 was reached.')
})
