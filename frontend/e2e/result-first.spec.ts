// Issue 9: the result first, the two forms of the prompt, the lightbox, branching, nothing lost,
// tabs in sync, phone and keyboard. Runs on a desktop (1440x900) and a phone (390x844).
import {
  apiOptimizedSession,
  apiSessionWithImage,
  describeGoal,
  expect,
  getSession,
  sessionIdOf,
  shot,
  test,
} from './helpers'

test('the first screen of the result is the answer; Copy gives the rendered prompt', async ({
  page,
  request,
}) => {
  const id = await apiOptimizedSession(request, 'A red fox asleep in fresh snow at dawn')
  const session = await getSession(request, id)
  await page.goto(`/#/s/${id}`)
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/result$`))
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1)
  const viewport = page.viewportSize()!
  const phone = viewport.width < 600

  // Before and after, side by side; the best is large on a desktop.
  const first = page.getByTestId('hero-first').getByRole('img')
  const best = page.getByTestId('hero-best').getByRole('img')
  await expect(first).toBeVisible()
  await expect(best).toHaveAttribute('alt', `Iteration ${session.best_index}`)
  const fb = (await first.boundingBox())!
  const bb = (await best.boundingBox())!
  expect(Math.abs(fb.y - bb.y)).toBeLessThan(40) // side by side
  if (!phone) expect(bb.width).toBeGreaterThanOrEqual(480)
  await expect(page.getByTestId('uplift')).toContainText('→')
  // On a desktop, the prompt, Copy, Download and the cost are on the first screen.
  const copy = page.getByTestId('copy-rendered')
  if (!phone) {
    for (const el of [
      copy,
      page.getByRole('link', { name: 'Download session (.zip)' }),
      page.getByTestId('total-cost'),
    ]) {
      const box = (await el.boundingBox())!
      expect(box.y + box.height).toBeLessThanOrEqual(viewport.height)
    }
  } else {
    expect(bb.y + bb.height).toBeLessThanOrEqual(viewport.height)
  }
  const height = await page.evaluate(() => document.documentElement.scrollHeight)
  test.info().annotations.push({
    type: 'result page height',
    description: `${viewport.width}x${viewport.height}: ${height}px`,
  })
  console.log(`[measure] result page height at ${viewport.width}x${viewport.height}: ${height}px`)
  await shot(page, '30-result-first', { first: true })

  // Copy = exactly what the provider received; the second action copies the FLEX source.
  await copy.click()
  await expect(copy).toHaveText('Copied ✓')
  // ...with the negative prompt when the provider received one apart (the demo provider does).
  const bestIt = session.iterations.find((it) => it.index === session.best_index)!
  const copied = bestIt.rendered_negative
    ? `${session.final_prompt_rendered}\n\nNegative prompt: ${bestIt.rendered_negative}`
    : session.final_prompt_rendered
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(copied)
  if (bestIt.rendered_negative)
    await expect(page.getByTestId('final-negative')).toContainText(bestIt.rendered_negative)
  expect(session.final_prompt_rendered).not.toContain('FLEX_BEGIN')
  expect(session.final_prompt_rendered).not.toMatch(/^#/m)
  await expect(copy).toHaveText('Copy prompt', { timeout: 5000 })
  await page.getByTestId('copy-flex').click()
  await expect(page.getByTestId('copy-flex')).toHaveText('Copied ✓')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(session.final_prompt_text)

  // The lightbox: click an image; arrows move between iterations; its own download; Escape closes.
  await page.getByTestId('hero-best').getByRole('button').click()
  const box = page.getByTestId('lightbox')
  await expect(box).toBeVisible()
  await expect(box.getByRole('img')).toHaveAttribute('alt', `Iteration ${session.best_index}`)
  await expect(box.getByRole('link', { name: 'Download image' })).toHaveAttribute(
    'download',
    /iter-\d+\.png$/,
  )
  await shot(page, '31-lightbox')
  await page.keyboard.press('ArrowLeft')
  await expect(box.getByRole('img')).toHaveAttribute('alt', `Iteration ${session.best_index! - 1}`)
  await page.keyboard.press('ArrowRight')
  await expect(box.getByRole('img')).toHaveAttribute('alt', `Iteration ${session.best_index}`)
  await page.keyboard.press('Escape')
  await expect(box).toBeHidden()

  // The chart fits its box (no sideways scroll), every iteration shows the prompt it sent.
  const chart = page.getByTestId('score-chart')
  const cb = (await chart.boundingBox())!
  expect(cb.x + cb.width).toBeLessThanOrEqual(viewport.width)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow).toBeLessThanOrEqual(0)
  const sent = page.getByTestId('prompt-sent').first()
  await sent.getByText('Prompt sent').click()
  await expect(sent).not.toContainText('FLEX_BEGIN')

  // The zip carries both forms of the prompt.
  const zip = await (await request.get(`/api/sessions/${id}/download`)).body()
  expect(zip.includes(Buffer.from('final_prompt.txt'))).toBe(true)
  expect(zip.includes(Buffer.from('final_prompt_flex.txt'))).toBe(true)
  await shot(page, '32-result-full')
})

test('after a run, earlier steps are read-only and "Use this prompt" branches', async ({ page, request }) => {
  const id = await apiOptimizedSession(request, 'A lighthouse on a cliff in a storm', { iterations_count: 1 })
  const session = await getSession(request, id)
  await page.goto(`/#/s/${id}/review`)
  await expect(page.getByRole('heading', { name: 'First image' })).toBeVisible()
  await expect(page.getByTestId('read-only-note')).toContainText('Read-only')
  await expect(page.getByRole('button', { name: 'Improve' })).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Accept' })).toHaveCount(0)
  await expect(page.getByRole('img', { name: 'Iteration 0' })).toBeVisible()
  await shot(page, '33-review-read-only')

  // Branch from iteration 1: a new session whose editable prompt is that iteration's prompt.
  await page.goto(`/#/s/${id}/result`)
  const card = page.getByTestId('timeline').locator('li[data-index="1"]')
  await card.getByRole('button', { name: 'Use this prompt' }).click()
  await expect(page).toHaveURL(/#\/s\/[0-9a-f]+\/prompt$/)
  const branched = sessionIdOf(page)
  expect(branched).not.toBe(id)
  const subject = page.getByRole('textbox', { name: /^Subject/ })
  await expect(subject).toBeEditable()
  const copy = await getSession(request, branched)
  expect(copy.prompt_text).toBe(session.iterations[1].prompt_text)
  expect(copy.branched_from).toEqual({ session_id: id, iteration: 1 })
  expect(copy.checklist).toEqual(session.checklist.filter((q) => q.source === 'goal'))
  await expect(page.getByTestId('branched-from')).toContainText('iteration #1 of an earlier session')
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled()
  await shot(page, '34-branched')
})

test('nothing lost: drafts survive reloads and navigation; Back and Forward move between steps', async ({
  page,
}) => {
  await page.goto('/')
  await page.getByLabel('What do you want to see?').fill('A paper boat on a rainy street')
  await page.reload()
  await expect(page.getByLabel('What do you want to see?')).toHaveValue('A paper boat on a rainy street')

  await describeGoal(page, 'A red fox asleep in fresh snow at dawn')
  const id = sessionIdOf(page)
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/prompt$`))
  const subject = page.getByRole('textbox', { name: /^Subject/ })
  await subject.fill('a red fox curled up asleep, tail over its nose')
  await page.getByRole('button', { name: 'Lock Lighting' }).click()
  // Leave the step and come back: the edit and the lock are still there.
  await page.getByRole('button', { name: /Step 1/ }).click()
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/describe$`))
  await page.goBack()
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/prompt$`))
  await expect(subject).toHaveValue('a red fox curled up asleep, tail over its nose')
  await page.goForward()
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/describe$`))
  await page.getByRole('button', { name: /Step 2/ }).click()
  await page.reload()
  await expect(subject).toHaveValue('a red fox curled up asleep, tail over its nose')
  await expect(page.getByRole('button', { name: 'Unlock Lighting' })).toHaveAttribute('aria-pressed', 'true')
  await expect(page.getByTestId('draft-restored')).toBeVisible()
  await shot(page, '35-draft-restored')
  // History and back.
  await page.getByRole('button', { name: 'History' }).click()
  await expect(page.getByRole('navigation', { name: 'Progress' })).toHaveCount(0)
  await page.goBack()
  await expect(subject).toHaveValue('a red fox curled up asleep, tail over its nose')

  // Generating moves on to step 3 as a new history entry: Back returns to step 2.
  await page.getByRole('button', { name: 'Generate', exact: true }).click()
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/review$`))
  await expect(page.getByRole('img', { name: 'Iteration 0', exact: true })).toBeVisible()
  await page.goBack()
  await expect(page).toHaveURL(new RegExp(`#/s/${id}/prompt$`))
  await expect(page.getByRole('heading', { name: 'Starting prompt' })).toBeVisible()
})

test('two tabs on one session stay in sync, whichever starts the run', async ({ context, request }) => {
  const id = await apiSessionWithImage(request, 'A glass of iced tea on a sunny windowsill')
  const one = await context.newPage()
  const two = await context.newPage()
  await one.goto(`/#/s/${id}`)
  await two.goto(`/#/s/${id}`)
  await expect(two.getByRole('button', { name: 'Improve' })).toBeVisible()
  const history = await context.newPage()
  await history.goto('/#/history')
  await expect(history.getByTestId('history-list').locator(`[data-session="${id}"]`)).toBeVisible()

  await one.getByLabel('Rounds').fill('6')
  await one.getByRole('button', { name: 'Improve' }).click()
  // The history list and tab 2 follow: tab 2 moves to the result step and shows the run live.
  const row = history.getByTestId('history-list').locator(`[data-session="${id}"]`)
  await expect(row).toContainText(/running/i, { timeout: 15_000 })
  await expect(two.getByTestId('live-progress')).toBeVisible({ timeout: 15_000 })
  await expect(two).toHaveURL(new RegExp(`#/s/${id}/result$`))
  await shot(two, '36-second-tab-running')
  await expect(two.getByTestId('live-progress')).toBeHidden({ timeout: 90_000 })
  await expect(two.getByTestId('stop-reason')).toBeVisible()
  const done = await getSession(request, id)
  await expect(two.getByTestId('timeline').locator('li[data-index]')).toHaveCount(done.iterations.length)
  await expect(row).not.toContainText(/running/i, { timeout: 15_000 })
})

test('phone and keyboard: banner collapses and remembers, tap targets, radio groups', async ({ page }) => {
  await page.goto('/')
  const banner = page.getByTestId('offline-banner')
  if (page.viewportSize()!.width < 600) {
    // A phone starts with the one-line notice; Details opens it.
    await expect(banner).toHaveAttribute('data-open', 'false')
    await banner.getByRole('button', { name: 'Details' }).click()
  }
  await expect(banner).toHaveAttribute('data-open', 'true')
  await banner.getByRole('button', { name: 'Hide' }).click()
  await expect(banner).toHaveAttribute('data-open', 'false')
  await page.reload()
  await expect(banner).toHaveAttribute('data-open', 'false')
  const bb = (await banner.boundingBox())!
  expect(bb.height).toBeLessThanOrEqual(60)
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1)

  // Setting chips: one tab stop per group, arrows move the choice.
  await page.getByRole('radio', { name: /Offline demo/ }).click()
  const group = page.getByRole('radiogroup', { name: 'Aspect ratio' })
  const checked = group.locator('[aria-checked="true"]')
  const before = await checked.textContent()
  await checked.focus()
  await page.keyboard.press('ArrowRight')
  await expect(group.locator('[aria-checked="true"]')).not.toHaveText(before!)
  await expect(group.locator('[tabindex="0"]')).toHaveCount(1)

  if (page.viewportSize()!.width < 600) {
    // Every button and link on the page is at least 44 px tall.
    const small = await page.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLElement>(
          'main button, main a, header button, header a, [role="radio"]',
        ),
      ]
        .filter((el) => el.offsetParent !== null)
        .map((el) => ({ text: el.textContent?.trim().slice(0, 30), h: el.getBoundingClientRect().height }))
        .filter((x) => x.h < 44),
    )
    expect(small).toEqual([])
  }
  await shot(page, '37-describe', { first: true })
})
