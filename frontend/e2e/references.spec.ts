// Issue 19 in the browser: reference images picked from disk on the goal form (real PNG files through
// the file input), the session made with them, shown on the result page, and "Edit this image".
// Runs against the real backend in offline demo mode, in English and Russian, on a desktop and a phone.
import AxeBuilder from '@axe-core/playwright'
import type { APIRequestContext, Page } from '@playwright/test'
import { fileURLToPath } from 'node:url'

import { expect, getSession, sessionIdOf, shot, test } from './helpers'

const STAR = fileURLToPath(new URL('../../assets/star_80.png', import.meta.url))
const ICON = fileURLToPath(new URL('../../assets/logo_icon_96.png', import.meta.url))

interface Caps {
  max_input_images: number
  defaults?: Record<string, unknown>
  model_capabilities?: { id: string; max_input_images: number }[]
}

/** How many input images the demo's default model takes (0 before refs-providers is merged). */
async function demoInputs(request: APIRequestContext): Promise<number> {
  const body = (await (await request.get('/api/providers')).json()) as {
    providers: { name: string; capabilities: Caps }[]
  }
  const caps = body.providers.find((p) => p.name === 'demo')!.capabilities
  const model = caps.model_capabilities?.find((m) => m.id === caps.defaults?.model)
  return model?.max_input_images ?? caps.max_input_images
}

/** Whether the server takes `edit_from` on generate (refs-loop). */
async function canEdit(request: APIRequestContext): Promise<boolean> {
  return (await (await request.get('/api/openapi.json')).text()).includes('edit_from')
}

async function axe(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze()
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

const WORDS = {
  en: {
    goal: 'What do you want to see?',
    submit: 'Write my prompt',
    prompt: 'Starting prompt',
    add: 'Add images',
    role2: 'Role of reference 2',
    label1: 'Label of reference 1',
    moveLeft2: 'Move reference 2 left',
    none: 'takes no reference images',
    refs: 'References',
    edit1: 'Edit this image (#1)',
    what1: 'What should change in #1?',
    run: /^Edit$/,
    editedFrom: 'edited from #1',
  },
  ru: {
    goal: 'Что вы хотите увидеть?',
    submit: 'Написать промпт',
    prompt: 'Стартовый промпт',
    add: 'Добавить изображения',
    role2: 'Роль референса 2',
    label1: 'Подпись референса 1',
    moveLeft2: 'Сдвинуть референс 2 влево',
    none: 'не принимает референсы',
    refs: 'Референсы',
    edit1: 'Редактировать это изображение (№1)',
    what1: 'Что изменить в №1?',
    run: /^Изменить$/,
    editedFrom: 'отредактировано из №1',
  },
} as const

for (const lang of ['en', 'ru'] as const) {
  for (const size of [
    { name: 'desktop', viewport: { width: 1440, height: 900 } },
    { name: 'phone', viewport: { width: 390, height: 844 } },
  ]) {
    test.describe(`${lang} ${size.name}`, () => {
      test.use({ locale: lang === 'ru' ? 'ru-RU' : 'en-US', viewport: size.viewport })
      const w = WORDS[lang]
      const name = (step: string) => `refs-${lang}-${size.name}-${step}`

      test('references from disk go into the session, show on the result, and an image is edited', async ({
        page,
        request,
      }) => {
        await page.goto('/')
        await page.getByLabel(w.goal).fill('A glass perfume bottle on wet black stone, studio light')
        await page.getByRole('radio', { name: /Offline demo|Офлайн/ }).click()
        // The demo model takes input images (the model that takes none is the last test's).
        expect(await demoInputs(request)).toBeGreaterThan(0)

        // Two real PNG files through the file input; role, label and order changed by keyboard.
        await page.getByTestId('reference-file').setInputFiles([STAR, ICON])
        const list = page.getByTestId('reference-picker').locator('li[data-reference]')
        await expect(list).toHaveCount(2)
        await page.getByLabel(w.role2).selectOption('style')
        await page.getByLabel(w.label1).fill('the star')
        await page.getByRole('button', { name: w.moveLeft2 }).focus()
        await page.keyboard.press('Enter')
        await expect(list.first().getByRole('img')).toHaveAttribute('alt', /logo_icon_96\.png/)
        expect(await axe(page)).toEqual([])
        await shot(page, name('describe'), { first: true })
        await page.getByRole('button', { name: w.submit }).click()
        await expect(page.getByRole('heading', { name: w.prompt })).toBeVisible()

        // Stored in order, re-encoded, served by the app.
        const id = sessionIdOf(page)
        const created = await getSession(request, id)
        expect(created.references.map((r) => [r.id, r.role, r.label])).toEqual([
          ['r1', 'style', ''],
          ['r2', 'subject', 'the star'],
        ])
        expect((await request.get(created.references[0].url)).headers()['content-type']).toBe('image/png')

        // The result page: the references beside first and best.
        expect((await request.post(`/api/sessions/${id}/generate`, { data: { wait: true } })).status()).toBe(
          200,
        )
        const run = await request.post(`/api/sessions/${id}/optimize/run`, {
          data: { iterations_count: 1, candidates: 1, wait: true },
        })
        expect(run.status()).toBe(200)
        await page.goto(`/#/s/${id}`)
        const strip = page.getByTestId('hero').getByTestId('reference-strip')
        await expect(strip.getByRole('heading', { name: w.refs })).toBeVisible()
        await expect(strip.getByRole('img')).toHaveCount(2)
        await expect(strip.getByRole('img').nth(1)).toHaveAttribute('alt', /the star/)
        await shot(page, name('result'), { first: true })

        expect(await canEdit(request)).toBe(true) // generate takes edit_from
        await page.getByRole('button', { name: w.edit1 }).click()
        await page.getByLabel(w.what1).fill('Change only the stone: make it white marble')
        expect(await axe(page)).toEqual([])
        await page.getByRole('button', { name: w.run }).click()
        const edited = page.getByTestId('timeline').locator('li[data-index="2"]')
        await expect(edited.getByTestId('edited-from')).toHaveText(w.editedFrom, { timeout: 60_000 })
        expect((await getSession(request, id)).iterations[2].edited_from).toBe(1)
        await shot(page, name('edited'))
      })
    })
  }
}

test('a model that takes no input images says so before Generate, and adding is off', async ({ page }) => {
  // Every model SFUMATO ships takes references, so the catalogue's answer is changed on its way in.
  await page.route('/api/providers', async (route) => {
    const body = (await (await route.fetch()).json()) as { providers: { name: string; capabilities: Caps }[] }
    for (const p of body.providers) {
      p.capabilities.max_input_images = 0
      for (const m of p.capabilities.model_capabilities ?? []) m.max_input_images = 0
    }
    await route.fulfill({ json: body })
  })
  await page.goto('/')
  await page.getByRole('radio', { name: /Offline demo/ }).click()
  await expect(page.getByTestId('references-none')).toHaveText(
    'Offline demo takes no reference images: choose another model or provider to use them.',
  )
  await expect(page.getByRole('button', { name: 'Add images' })).toBeDisabled()
  expect(await axe(page)).toEqual([])
})
