// The settings follow the chosen model: GPT Image 2 offers 16:9 and 9:16 with a resolution tier
// and shows the size it will send; a fixed-size model shows its fixed sizes instead.
import { expect, shot, test } from './helpers'

test('OpenAI model picker, free sizes and the size shown before generating', async ({ page }) => {
  await page.goto('/')
  await page.getByRole('radio', { name: /OpenAI/ }).click()
  const model = page.getByLabel('Model')
  await expect(model).toHaveValue('gpt-image-2.5-flare')
  await model.selectOption('gpt-image-2')
  await expect(page.getByTestId('model-description')).toContainText('GPT Image 2')
  const ratios = page.getByRole('radiogroup', { name: 'Aspect ratio' })
  const tiers = page.getByRole('radiogroup', { name: 'Resolution' })
  await expect(ratios.getByRole('radio', { name: '16:9', exact: true })).toBeVisible()
  await expect(ratios.getByRole('radio', { name: '9:16', exact: true })).toBeVisible()
  await ratios.getByRole('radio', { name: '16:9', exact: true }).click()
  await tiers.getByRole('radio', { name: '2K' }).click()
  await expect(page.getByTestId('planned-size')).toContainText('2560 × 1440')
  await ratios.getByRole('radio', { name: '9:16', exact: true }).click()
  await tiers.getByRole('radio', { name: '4K' }).click()
  await expect(page.getByTestId('planned-size')).toContainText('2160 × 3840')
  await expect(page.getByTestId('planned-size')).toContainText('experimental')
  await tiers.getByRole('radio', { name: '1K' }).click()
  await ratios.getByRole('radio', { name: '16:9', exact: true }).click()
  await expect(page.getByTestId('planned-size')).toContainText('1824 × 1024')
  await shot(page, '14-openai-free-sizes')

  await model.selectOption('gpt-image-1.5')
  await expect(page.getByTestId('planned-size')).toHaveCount(0)
  await expect(page.getByRole('radiogroup', { name: 'Size' })).toBeVisible()
  await expect(ratios.getByRole('radio', { name: '16:9', exact: true })).toHaveCount(0)

  await page.setViewportSize({ width: 390, height: 844 })
  await model.selectOption('gpt-image-2')
  await ratios.getByRole('radio', { name: '9:16', exact: true }).click()
  await expect(page.getByTestId('planned-size')).toContainText('1024 × 1824')
  await shot(page, '15-phone-openai-free-sizes')
})
