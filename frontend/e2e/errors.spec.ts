// API errors reach the person as readable messages with a next step.
import { expect, shot, test } from './helpers'

test('an over-long goal disables the action with the reason beside the field', async ({ page, request }) => {
  const limits = (
    (await (await request.get('/api/providers')).json()) as { limits: { max_goal_chars: number } }
  ).limits
  await page.goto('/')
  await page
    .getByLabel('What do you want to see?')
    .fill('fox '.repeat(Math.ceil(limits.max_goal_chars / 4) + 10))
  await expect(page.getByText('too long')).toBeVisible()
  // The client mirrors the server's limit: the action is off and the reason sits beside the field.
  await expect(page.getByRole('button', { name: 'Write my prompt' })).toBeDisabled()
  await expect(page.locator('#goal-problem')).toContainText(`limit of ${limits.max_goal_chars}`)
  await shot(page, '10-error-long-goal')
  // The server refuses it too, with the one error shape.
  const refused = await request.post('/api/sessions', {
    data: { goal: 'fox '.repeat(limits.max_goal_chars), provider: 'demo' },
  })
  expect(refused.status()).toBeGreaterThanOrEqual(400)
  expect(((await refused.json()) as { code: string }).code).toMatch(/validation_error|payload_too_large/)
})

test('choosing a provider without a key explains which key to set', async ({ page }) => {
  await page.goto('/')
  await page.getByLabel('What do you want to see?').fill('A red fox in snow')
  await page.getByRole('radio', { name: /OpenAI/ }).click()
  await expect(page.getByText(/is not configured on this server/)).toBeVisible()
  await page.getByRole('button', { name: 'Write my prompt' }).click()
  const alert = page.getByRole('alert')
  await expect(alert).toHaveAttribute('data-code', 'provider_not_configured')
  await expect(alert).toContainText('OPENAI_IMAGE_API_KEY')
  await shot(page, '11-error-provider')
})

test('works at phone width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto('/')
  await expect(page.getByRole('navigation', { name: 'Progress' })).toBeVisible()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow).toBeLessThanOrEqual(0)
  await shot(page, '12-phone-describe')
})
