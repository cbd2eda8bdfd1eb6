// Every view checked by axe-core against WCAG 2 A and AA (text contrast of at least 4.5:1, names
// and roles, one main landmark, headings), at both sizes, in its dark theme.
import AxeBuilder from '@axe-core/playwright'

import { apiOptimizedSession, expect, test } from './helpers'

async function violations(page: import('@playwright/test').Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze()
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n')[1] ?? ''}`),
  }))
}

const HEADINGS = {
  en: {
    describe: 'Describe the image you want',
    prompt: 'Shape the prompt',
    review: 'Review and improve',
    result: 'Your result',
    history: 'History',
    batch: 'Batch run',
    openReport: 'Open report',
    open0: 'Open iteration 0 full size',
  },
  ru: {
    describe: 'Опишите картинку, которую хотите',
    prompt: 'Доработайте промпт',
    review: 'Оценка и улучшение',
    result: 'Ваш результат',
    history: 'История',
    batch: 'Пакетный запуск',
    openReport: 'Открыть отчёт',
    open0: 'Открыть итерацию 0 в полный размер',
  },
} as const

for (const lang of ['en', 'ru'] as const) {
  test(`every view meets WCAG 2 AA in ${lang}: contrast, names, roles, headings`, async ({
    page,
    request,
  }) => {
    const words = HEADINGS[lang]
    // The language as the header's switch leaves it (remembered on this device).
    await page.addInitScript((l) => window.localStorage.setItem('sfumato.lang', l), lang)
    const id = await apiOptimizedSession(request, 'A lighthouse on a cliff in a storm', {
      iterations_count: 1,
    })
    // A finished batch, so the batch page shows its report table.
    const batch = await request.post('/api/batches', { data: { goals: 'a red fox in snow', iterations: 1 } })
    expect(batch.status()).toBe(202)
    const batchId = (await batch.json()).batch_id as string
    await expect
      .poll(async () => (await (await request.get(`/api/batches/${batchId}`)).json()).status, {
        timeout: 30_000,
      })
      .toBe('done')
    const views: [string, string, string][] = [
      ['describe', '/', words.describe],
      ['prompt', `/#/s/${id}/prompt`, words.prompt],
      ['review', `/#/s/${id}/review`, words.review],
      ['result', `/#/s/${id}/result`, words.result],
      ['history', '/#/history', words.history],
      ['batch', '/#/batch', words.batch],
    ]
    const found: Record<string, unknown> = {}
    for (const [name, url, heading] of views) {
      await page.goto(url)
      await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible()
      await page.waitForLoadState('networkidle')
      if (name === 'batch') {
        // Started elsewhere (the API): listed under the form, its report one click away.
        await page
          .getByTestId('recent-batches')
          .getByRole('button', { name: words.openReport })
          .first()
          .click()
        await expect(page.getByTestId('batch-table')).toBeVisible()
      }
      if (name === 'result') await expect(page.getByTestId('final-prompt')).toBeVisible()
      const problems = await violations(page)
      if (problems.length) found[name] = problems
    }
    // The lightbox, open over the result.
    await page.goto(`/#/s/${id}/result`)
    await page.getByRole('button', { name: words.open0 }).click()
    await expect(page.getByRole('dialog')).toBeVisible()
    const lightbox = await violations(page)
    if (lightbox.length) found.lightbox = lightbox
    expect(found).toEqual({})
  })
}
