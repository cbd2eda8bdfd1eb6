import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'

import { makeCaps } from '@/test/fixtures'
import type { Capabilities, ModelCapabilities } from '@/lib/types'

import { buildImageParams, initialValues, settingFields, type SettingValues } from './settings'
import { SettingsForm } from './settings-form'

function Harness({ caps, onValues }: { caps: Capabilities; onValues?: (v: SettingValues) => void }) {
  const [values, setValues] = useState(() => initialValues(caps))
  return (
    <>
      <SettingsForm
        capabilities={caps}
        values={values}
        onChange={(v) => {
          setValues(v)
          onValues?.(v)
        }}
      />
      <output data-testid="params">{JSON.stringify(buildImageParams(caps, values))}</output>
    </>
  )
}

/** Renders the form for these capabilities (the demo provider's by default), with a user to drive it. */
function setup(caps: Capabilities = makeCaps()) {
  const user = userEvent.setup()
  render(<Harness caps={caps} />)
  return user
}

const params = () => JSON.parse(screen.getByTestId('params').textContent ?? '{}')

const OPENAI_LIKE = makeCaps({
  name: 'openai',
  is_demo: false,
  models: ['gpt-image-2', 'gpt-image-1-mini'],
  supported_aspect_ratios: [],
  supported_sizes: ['1024x1024', '1536x1024', '1024x1536', 'auto'],
  supported_resolutions: [],
  supported_qualities: ['low', 'medium', 'high'],
  supported_output_formats: ['png', 'jpeg', 'webp'],
  supported_backgrounds: ['auto', 'opaque', 'transparent'],
  supports_seed: false,
  supports_style_presets: false,
  style_presets: [],
  defaults: { model: 'gpt-image-2', size: '1024x1024', quality: 'medium' },
})

describe('settingFields', () => {
  it('derives fields from the capabilities alone', () => {
    expect(settingFields(makeCaps()).map((f) => `${f.key}:${f.kind}`)).toEqual([
      'aspect_ratio:chips',
      'resolution:chips',
      'output_format:chips',
      'style_preset:chips',
      'seed:seed',
    ])
    expect(settingFields(OPENAI_LIKE).map((f) => f.key)).toEqual([
      'model',
      'size',
      'quality',
      'output_format',
      'background',
    ])
  })

  it('hides style presets unless supports_style_presets, and a single model', () => {
    const caps = makeCaps({ supports_style_presets: false, supports_seed: false })
    expect(settingFields(caps).map((f) => f.key)).not.toContain('style_preset')
    expect(settingFields(caps).map((f) => f.key)).not.toContain('model')
    expect(settingFields(caps).map((f) => f.key)).not.toContain('seed')
  })

  it('uses a select for long option lists', () => {
    const many = Array.from({ length: 12 }, (_, i) => `${i + 1}:1`)
    expect(settingFields(makeCaps({ supported_aspect_ratios: many }))[0]).toMatchObject({
      key: 'aspect_ratio',
      kind: 'select',
    })
  })
})

describe('SettingsForm', () => {
  it('shows only the demo provider settings, starting from its defaults', () => {
    render(<Harness caps={makeCaps()} />)
    expect(screen.getByRole('radiogroup', { name: 'Aspect ratio' })).toBeInTheDocument()
    expect(screen.getByRole('radiogroup', { name: 'Resolution' })).toBeInTheDocument()
    expect(screen.queryByRole('radiogroup', { name: 'Quality' })).not.toBeInTheDocument()
    expect(screen.queryByRole('radiogroup', { name: 'Size' })).not.toBeInTheDocument()
    expect(screen.getByLabelText(/Seed/)).toBeInTheDocument()
    expect(screen.getByRole('radio', { name: '1:1' })).toHaveAttribute('aria-checked', 'true')
    expect(params()).toEqual({
      aspect_ratio: '1:1',
      resolution: 'small',
      output_format: 'png',
      style_preset: 'none',
    })
  })

  it('changes values through chips and the seed box', async () => {
    const user = setup()
    await user.click(screen.getByRole('radio', { name: '16:9' }))
    await user.click(screen.getByRole('radio', { name: 'large' }))
    await user.type(screen.getByLabelText(/Seed/), '42')
    expect(screen.getByRole('radio', { name: '16:9' })).toHaveAttribute('aria-checked', 'true')
    expect(params()).toMatchObject({ aspect_ratio: '16:9', resolution: 'large', seed: 42 })
  })

  it('flags a bad seed and leaves it out of the request', async () => {
    const user = setup()
    await user.type(screen.getByLabelText(/Seed/), '4x')
    expect(screen.getByText('A seed is a whole number')).toBeInTheDocument()
    expect(params()).not.toHaveProperty('seed')
  })

  it('shows size, quality, background and a model select for an OpenAI-like provider', async () => {
    const user = setup(OPENAI_LIKE)
    expect(screen.queryByRole('radiogroup', { name: 'Aspect ratio' })).not.toBeInTheDocument()
    expect(screen.queryByLabelText(/Seed/)).not.toBeInTheDocument()
    expect(screen.getByRole('radiogroup', { name: 'Size' })).toBeInTheDocument()
    expect(screen.getByRole('radiogroup', { name: 'Background' })).toBeInTheDocument()
    await user.selectOptions(screen.getByLabelText('Model'), 'gpt-image-1-mini')
    await user.click(screen.getByRole('radio', { name: 'high' }))
    expect(params()).toEqual({
      model: 'gpt-image-1-mini',
      size: '1024x1024',
      quality: 'high',
      output_format: 'png',
      background: 'auto',
    })
  })

  it('keeps a transparent background on png or webp', async () => {
    const user = setup(OPENAI_LIKE)
    await user.click(screen.getByRole('radio', { name: 'webp' }))
    await user.click(screen.getByRole('radio', { name: 'transparent' }))
    expect(params()).toMatchObject({ background: 'transparent', output_format: 'webp' })
    await user.click(screen.getByRole('radio', { name: 'jpeg' }))
    expect(params()).toMatchObject({ background: 'auto', output_format: 'jpeg' })
    await user.click(screen.getByRole('radio', { name: 'transparent' }))
    expect(params()).toMatchObject({ background: 'transparent', output_format: 'png' })
  })

  it('says so when a provider has nothing to adjust', () => {
    const bare = makeCaps({
      supported_aspect_ratios: [],
      supported_resolutions: [],
      supported_output_formats: [],
      supports_seed: false,
      supports_style_presets: false,
    })
    render(<Harness caps={bare} />)
    expect(screen.getByText(/no adjustable settings/)).toBeInTheDocument()
  })

  it('follows the chosen model: ratios and a tier with the size sent, or the fixed sizes', async () => {
    const user = setup(PER_MODEL)
    expect(screen.getByTestId('model-description')).toHaveTextContent('free sizes')
    const ratios = screen.getByRole('radiogroup', { name: 'Aspect ratio' })
    expect(ratios).toHaveTextContent('16:9')
    expect(ratios).toHaveTextContent('9:16')
    expect(screen.getByTestId('planned-size')).toHaveTextContent('1024 × 1024')
    await user.click(screen.getByRole('radio', { name: '16:9' }))
    await user.click(screen.getByRole('radio', { name: '2K' }))
    expect(screen.getByTestId('planned-size')).toHaveTextContent('2560 × 1440')
    expect(params()).toEqual({
      model: 'gpt-image-2',
      aspect_ratio: '16:9',
      resolution: '2K',
      quality: 'medium',
    })
    await user.click(screen.getByRole('radio', { name: '9:16' }))
    expect(screen.getByTestId('planned-size')).toHaveTextContent('1440 × 2560')

    await user.selectOptions(screen.getByLabelText('Model'), 'gpt-image-1.5')
    expect(screen.queryByTestId('planned-size')).not.toBeInTheDocument()
    expect(screen.queryByRole('radiogroup', { name: 'Resolution' })).not.toBeInTheDocument()
    expect(screen.getByRole('radiogroup', { name: 'Size' })).toBeInTheDocument()
    expect(params()).toEqual({ model: 'gpt-image-1.5', aspect_ratio: '1:1', size: 'auto', quality: 'medium' })
  })
})

const FREE_SIZES = {
  multiple: 16,
  max_ratio: 3,
  max_long_edge: 3840,
  max_short_edge: 2160,
  min_pixels: 655_360,
  max_pixels: 3840 * 2160,
  tiers: { '1K': 1024, '2K': 1440 },
  experimental_above_pixels: 2560 * 1440,
  sizes: {
    '1:1': { '1K': '1024x1024', '2K': '1440x1440' },
    '16:9': { '1K': '1824x1024', '2K': '2560x1440' },
    '9:16': { '1K': '1024x1824', '2K': '1440x2560' },
  },
}

/** A model of PER_MODEL: low or medium quality, no output format, background or input image to choose. */
const perModel = (
  m: Omit<
    ModelCapabilities,
    'supported_qualities' | 'supported_output_formats' | 'supported_backgrounds' | 'max_input_images'
  >,
): ModelCapabilities => ({
  supported_qualities: ['low', 'medium'],
  supported_output_formats: [],
  supported_backgrounds: [],
  max_input_images: 0,
  ...m,
})

const PER_MODEL = makeCaps({
  name: 'openai',
  is_demo: false,
  models: ['gpt-image-2', 'gpt-image-1.5'],
  supports_seed: false,
  supports_style_presets: false,
  style_presets: [],
  defaults: { model: 'gpt-image-2' },
  model_capabilities: [
    perModel({
      id: 'gpt-image-2',
      description: 'GPT Image 2: free sizes up to 3840x2160.',
      supported_aspect_ratios: ['1:1', '16:9', '9:16'],
      supported_sizes: [],
      supported_resolutions: ['1K', '2K'],
      free_sizes: FREE_SIZES,
      defaults: { aspect_ratio: '1:1', resolution: '1K', quality: 'medium' },
    }),
    perModel({
      id: 'gpt-image-1.5',
      description: 'Three fixed sizes.',
      supported_aspect_ratios: ['1:1', '3:2', '2:3'],
      supported_sizes: ['1024x1024', 'auto'],
      supported_resolutions: [],
      free_sizes: null,
      defaults: { aspect_ratio: '1:1', size: 'auto', quality: 'medium' },
    }),
  ],
})
