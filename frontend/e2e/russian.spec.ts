// The whole flow once in Russian: a Russian browser (ru-RU) gets the Russian app without choosing,
// plurals and money the Russian way; screenshots of every step at 1440x900 and 390x844.
import { expect, sessionIdOf, shot, test } from './helpers'

test.use({ locale: 'ru-RU' })

test('a Russian browser goes from goal to result in Russian', async ({ page }) => {
  await page.goto('/')
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Опишите картинку, которую хотите')
  await expect(page.getByTestId('offline-banner')).toContainText('Демо-режим')
  await expect(page.getByRole('button', { name: 'English' })).toHaveAttribute('aria-pressed', 'false')
  await page.getByLabel('Что вы хотите увидеть?').fill('Рыжая лиса спит в свежем снегу на рассвете')
  await page.getByRole('radio', { name: /Offline demo|Офлайн/ }).click()
  await shot(page, 'ru-01-describe', { first: true })
  await page.getByRole('button', { name: 'Написать промпт' }).click()

  await expect(page.getByRole('heading', { name: 'Стартовый промпт' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Закрепить блок «Освещение»' })).toBeVisible()
  await shot(page, 'ru-02-prompt', { first: true })
  await page.getByRole('button', { name: 'Создать картинку', exact: true }).click()

  await expect(page.getByRole('img', { name: 'Итерация 0' })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Чек-лист судьи' })).toBeVisible()
  await page.getByLabel('Раунды').fill('2')
  // Russian plurals in the plan: "До 2 раунда × 2 кандидата = 4 картинки".
  await page.getByRole('radio', { name: '2' }).click()
  await expect(page.getByText(/До 2 раунда × 2 кандидата = 4 картинки/)).toBeVisible()
  await shot(page, 'ru-03-review', { first: true })
  await page.getByRole('button', { name: 'Улучшить' }).click()

  const progress = page.getByTestId('live-progress')
  await expect(progress).toContainText(/Раунд \d из 2/)
  await shot(page, 'ru-04-optimizing', { first: true })
  await expect(progress).toBeHidden({ timeout: 90_000 })
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ваш результат')
  await expect(page.getByTestId('total-cost')).toContainText('Итого')
  await expect(page.getByRole('heading', { name: 'Оценка по раундам' })).toBeVisible()
  await expect(page.getByTestId('timeline')).toContainText('Раунд 1')
  await shot(page, 'ru-05-result', { first: true })
  const id = sessionIdOf(page)

  // The lightbox, and the history with a Russian date.
  await page.getByRole('button', { name: 'Открыть итерацию 0 в полный размер' }).click()
  await expect(page.getByRole('dialog')).toBeVisible()
  await shot(page, 'ru-06-lightbox')
  await page.keyboard.press('Escape')
  await page.getByRole('button', { name: 'История' }).click()
  await expect(page.locator(`[data-session="${id}"]`)).toContainText(/картин/)
  await shot(page, 'ru-07-history', { first: true })

  // The batch page: the same header, Russian words, a bad line named in Russian.
  await page.getByRole('link', { name: 'Пакет' }).click()
  await page.getByLabel('Цели: по одной в строке или JSON Lines').fill('лиса\n{"goal": ')
  await expect(page.getByTestId('goal-problems')).toContainText('Строка 2: не читается как JSON')
  await expect(page.getByRole('button', { name: 'Запустить пакет' })).toBeDisabled()
  await shot(page, 'ru-08-batch', { first: true })

  // The switch in the header: English now, remembered after a reload.
  await page.getByRole('button', { name: 'English' }).click()
  await expect(page.locator('html')).toHaveAttribute('lang', 'en')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Batch run')
  await page.reload()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Batch run')
})
