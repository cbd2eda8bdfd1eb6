// Issue 17's layout figures, measured in the browser at 1440x900 and 390x844 (not timed): the
// result page of 3 rounds x 2 candidates fits 3,500 px on a desktop and 6,000 px on a phone with
// nothing hidden but disclosures; the chrome above the content takes at most a quarter of a phone's
// first screen; chart labels never overlap; every collapsible row shows a chevron; the lightbox is opaque.
import { apiOptimizedSession, expect, shot, test } from './helpers'

test('the result page of 3 rounds x 2 candidates is short and tidy', async ({ page, request }) => {
  const id = await apiOptimizedSession(request, 'A red fox asleep in fresh snow at dawn', {
    iterations_count: 3,
    candidates: 2,
    plateau_rounds: 0,
    target_score: 100,
  })
  await page.goto(`/#/s/${id}/result`)
  await expect(page.getByTestId('final-prompt')).toBeVisible()
  await expect(page.getByTestId('timeline').locator('li[data-index]')).toHaveCount(7)
  await page.waitForLoadState('networkidle')
  const phone = page.viewportSize()!.width < 600

  await shot(page, '40-result-3x2', { first: true })
  const height = await page.evaluate(() => document.documentElement.scrollHeight)
  console.log(
    `[measure] result page, 3 rounds x 2 candidates, ${page.viewportSize()!.width} px: ${height} px`,
  )
  expect(height).toBeLessThanOrEqual(phone ? 6000 : 3500)

  // Recommendations come right after the answer, before the chart and the timeline.
  const order = await page.evaluate(() =>
    ['recommendations-title', 'chart-title', 'timeline-title'].map(
      (id) => document.getElementById(id)?.getBoundingClientRect().top ?? -1,
    ),
  )
  expect(order[0]).toBeGreaterThan(0)
  expect(order[0]).toBeLessThan(order[1])
  expect(order[1]).toBeLessThan(order[2])

  // The timeline uses the whole width: a round's two candidates span the section on a desktop.
  if (!phone) {
    const section = (await page.getByTestId('timeline').boundingBox())!
    const round = page.getByTestId('timeline').locator('section[data-round="1"] > ol > li')
    const right = (await round.nth(1).boundingBox())!
    expect(right.x + right.width).toBeGreaterThan(section.x + section.width - 4)
  }

  // Every collapsible row is a <summary> with a chevron, aligned with its card's left edge.
  const summaries = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="timeline"] summary')].map((s) => ({
      chevron: !!s.querySelector('svg'),
      left: Math.round(s.getBoundingClientRect().left - s.closest('li')!.getBoundingClientRect().left),
    })),
  )
  expect(summaries.length).toBeGreaterThanOrEqual(14)
  expect(summaries.every((s) => s.chevron)).toBe(true)
  expect(new Set(summaries.map((s) => s.left)).size).toBe(1)

  // The Best card's star sits inside the card.
  const best = page.locator('li[data-best="true"]')
  const star = best.locator('img[src*="star"], img[src*="sparkle"]').first()
  if (await star.count()) {
    const [b, s] = [(await best.boundingBox())!, (await star.boundingBox())!]
    expect(s.x).toBeGreaterThanOrEqual(b.x)
    expect(s.y).toBeGreaterThanOrEqual(b.y)
    expect(s.x + s.width).toBeLessThanOrEqual(b.x + b.width)
  }

  // No chart label overlaps another (scores vs "target").
  const boxes = await page.evaluate(() =>
    [
      ...document.querySelectorAll(
        '[data-testid="score-chart"] text[data-label], [data-testid="target-label"]',
      ),
    ].map((t) => {
      const r = t.getBoundingClientRect()
      return { text: t.textContent, l: r.left, t: r.top, r: r.right, b: r.bottom }
    }),
  )
  const hits = boxes.flatMap((a, i) =>
    boxes
      .slice(i + 1)
      .filter((b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b)
      .map((b) => `${a.text}/${b.text}`),
  )
  expect(hits).toEqual([])

  // The lightbox hides the page behind it completely.
  await page.getByRole('button', { name: 'Open iteration 0 full size' }).click()
  const backdrop = await page.getByRole('dialog').evaluate((el) => getComputedStyle(el).backgroundColor)
  // Any colour without an alpha below 1 (rgb(), oklch() without "/ a", rgba(..., 1)).
  expect(backdrop).not.toMatch(/\/\s*0?\.\d|rgba\([^)]*,\s*0?\.\d+\)|transparent/)
  await shot(page, '41-lightbox')
})

test('on a phone the chrome above the content takes at most a quarter of the first screen', async ({
  page,
}) => {
  test.skip(page.viewportSize()!.width >= 600, 'phone only')
  for (const url of ['/', '/#/history', '/#/batch']) {
    await page.goto(url)
    const h1 = page.getByRole('heading', { level: 1 })
    await expect(h1).toBeVisible()
    // Header, banner and step bar: everything above the page's heading.
    const top = (await h1.boundingBox())!.y
    expect(top, url).toBeLessThanOrEqual(844 * 0.25)
  }
})
