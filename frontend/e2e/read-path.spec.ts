// The read path: the history pages in as you scroll and searches goals on the server; thumbnails,
// compressed JSON and precompressed scripts reach the browser.
import { apiSessionWithImage, expect, shot, test } from './helpers'

test('history loads more sessions as you scroll and finds goals by words', async ({ page, request }) => {
  const tag = `scrolltest${Date.now()}`
  const withImage = await apiSessionWithImage(request, `${tag} a lighthouse with a thumbnail`)
  for (let n = 0; n < 31; n++) {
    const created = await request.post('/api/sessions', {
      data: { goal: `${tag} harbour ${n}`, provider: 'demo' },
    })
    expect(created.status()).toBe(201)
  }

  const pages: string[] = []
  page.on('request', (r) => r.url().includes('/api/sessions?') && pages.push(r.url()))
  await page.goto('/#/history')
  await expect(page.getByTestId('history-list')).toBeVisible()
  const searched = page.waitForResponse((r) => r.url().includes(`q=${tag}`))
  await page.getByRole('searchbox', { name: 'Search goals' }).fill(tag)
  await searched
  const rows = page.getByTestId('history-list').locator('li')
  await expect(rows).toHaveCount(30)
  await page.getByTestId('history-more').scrollIntoViewIfNeeded()
  await expect(rows).toHaveCount(32)
  await expect(page.getByTestId('history-more')).toHaveCount(0)
  expect(pages.some((u) => u.includes('cursor='))).toBe(true)

  // The oldest one (with an image) shows its small thumbnail, not the full picture.
  const thumb = page.locator(`[data-session="${withImage}"] img`)
  await expect(thumb).toHaveAttribute('src', `/media/${withImage}/thumb_0.jpg`)
  expect(
    await thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
  ).toBeLessThanOrEqual(320)

  await page.getByRole('searchbox', { name: 'Search goals' }).fill(`${tag} lighthouse`)
  await expect(rows).toHaveCount(1)
  await shot(page, '14-history-search')
  await page.setViewportSize({ width: 390, height: 844 })
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
  ).toBeLessThanOrEqual(0)
  await shot(page, '15-phone-history-search')
})

test('JSON is gzipped and scripts come precompressed', async ({ page, request }) => {
  const list = await request.get('/api/sessions?limit=50', { headers: { 'Accept-Encoding': 'gzip' } })
  expect(list.ok()).toBe(true)
  expect(list.headers()['content-encoding']).toBe('gzip')
  expect(Array.isArray((await list.json()).sessions)).toBe(true)

  const scripts: Record<string, string>[] = []
  page.on('response', async (r) => r.url().endsWith('.js') && scripts.push(await r.allHeaders()))
  await page.goto('/')
  await expect(page.getByLabel('What do you want to see?')).toBeVisible()
  expect(scripts.length).toBeGreaterThan(0)
  expect(scripts[0]['content-encoding']).toBe('br')
})

test('the first screen loads at most 96 KB of compressed script', async ({ page }) => {
  // What the browser actually fetched for the first screen (the goal form), as sent on the wire.
  // 95 KB until the goal form took reference images (issue 19): their picker, file checks and most
  // of their strings load at the first sign of work on the form (reference-slot.tsx), and what
  // stays (the heading, the model's limit, the send-time checks) costs 0.8 KB, so 96 KB.
  await page.goto('/')
  await expect(page.getByLabel('What do you want to see?')).toBeVisible()
  const sizes = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({
      name: r.name,
      encoded: r.encodedBodySize,
      decoded: r.decodedBodySize,
    })),
  )
  const scripts = sizes.filter((s) => s.name.endsWith('.js'))
  const wire = scripts.reduce((n, s) => n + s.encoded, 0)
  const raw = scripts.reduce((n, s) => n + s.decoded, 0)
  const all = sizes.reduce((n, s) => n + s.encoded, 0)
  console.log(
    `[measure] first screen: ${scripts.length} scripts, ${(wire / 1024).toFixed(1)} KB on the wire ` +
      `(${(raw / 1024).toFixed(1)} KB raw); every resource ${(all / 1024).toFixed(1)} KB`,
  )
  expect(wire).toBeGreaterThan(0)
  expect(wire).toBeLessThanOrEqual(96 * 1024)
})
