// Which image settings a provider allows, derived from its capabilities object alone
// (docs/API.md "Image parameters"), so a new provider needs no UI change. The settings follow the
// chosen model: each model's own lists replace the provider's (`model_capabilities`).
import { i18n, t } from '@/i18n'
import type { Capabilities } from '@/lib/types'

/** The provider's capabilities with the chosen model's settings and defaults applied. */
export function forModel(caps: Capabilities, model?: string): Capabilities {
  const chosen = caps.model_capabilities?.find((m) => m.id === (model ?? caps.defaults?.model))
  if (!chosen) return caps
  return {
    ...caps,
    supported_aspect_ratios: chosen.supported_aspect_ratios,
    supported_sizes: chosen.supported_sizes,
    supported_resolutions: chosen.supported_resolutions,
    supported_qualities: chosen.supported_qualities,
    supported_output_formats: chosen.supported_output_formats,
    supported_backgrounds: chosen.supported_backgrounds,
    free_sizes: chosen.free_sizes,
    defaults: { ...chosen.defaults, model: chosen.id },
  }
}

/** The one-line description of a model, when the provider gives one. */
export function modelDescription(caps: Capabilities, model?: string): string | null {
  return caps.model_capabilities?.find((m) => m.id === model)?.description || null
}

/** The WIDTHxHEIGHT a free-size model will be sent for the chosen ratio and resolution. */
export function plannedSize(
  caps: Capabilities,
  values: SettingValues,
): { size: string; experimental: boolean } | null {
  const effective = forModel(caps, values.model)
  const free = effective.free_sizes
  const size = free?.sizes?.[values.aspect_ratio ?? '']?.[values.resolution ?? '']
  if (!free || !size) return null
  const [w, h] = size.split('x').map(Number)
  return { size, experimental: w * h > free.experimental_above_pixels }
}

/** New values after picking another model: keep what the new model allows, else its default. */
export function changeModel(caps: Capabilities, values: SettingValues, model: string): SettingValues {
  const next: SettingValues = { ...initialValues(caps, model), model }
  for (const field of settingFields(caps, model)) {
    const kept = values[field.key]
    if (field.key !== 'model' && kept != null && (field.kind === 'seed' || field.options.includes(kept)))
      next[field.key] = kept
  }
  return next
}

export type FieldKind = 'chips' | 'select' | 'seed'

export interface SettingField {
  key: string
  label: string
  kind: FieldKind
  options: string[]
}

type ListKey =
  | 'models'
  | 'supported_aspect_ratios'
  | 'supported_sizes'
  | 'supported_resolutions'
  | 'supported_qualities'
  | 'supported_output_formats'
  | 'supported_backgrounds'
  | 'style_presets'

// Order on screen. Short lists become chips, long ones a select.
const LIST_FIELDS: { key: string; list: ListKey; when?: 'supports_style_presets' }[] = [
  { key: 'model', list: 'models' },
  { key: 'aspect_ratio', list: 'supported_aspect_ratios' },
  { key: 'size', list: 'supported_sizes' },
  { key: 'resolution', list: 'supported_resolutions' },
  { key: 'quality', list: 'supported_qualities' },
  { key: 'output_format', list: 'supported_output_formats' },
  { key: 'background', list: 'supported_backgrounds' },
  { key: 'style_preset', list: 'style_presets', when: 'supports_style_presets' },
]

/** A setting's name in the language on screen ("aspect_ratio" -> "Aspect ratio"); unknown keys as written. */
export function settingLabel(key: string): string {
  return i18n.exists(`settings.field.${key}`) ? t(`settings.field.${key}`) : key.replace(/_/g, ' ')
}

const CHIP_LIMIT = 10 // ten ratios still fit as chips; longer lists (Grok, Gemini) become a select

export function settingFields(provider: Capabilities, model?: string): SettingField[] {
  const caps = forModel(provider, model)
  const fields: SettingField[] = []
  for (const f of LIST_FIELDS) {
    const options = caps[f.list] ?? []
    if (f.when && !caps[f.when]) continue
    // A single model is not a choice; other single-value lists still show what will be used.
    if (options.length === 0 || (f.key === 'model' && options.length < 2)) continue
    fields.push({
      key: f.key,
      label: settingLabel(f.key),
      kind: options.length > CHIP_LIMIT || f.key === 'model' ? 'select' : 'chips',
      options,
    })
  }
  if (caps.supports_seed) fields.push({ key: 'seed', label: settingLabel('seed'), kind: 'seed', options: [] })
  return fields
}

export type SettingValues = Record<string, string>

/** Start from the (chosen model's) defaults, for the fields it shows. */
export function initialValues(provider: Capabilities, model?: string): SettingValues {
  const caps = forModel(provider, model)
  const values: SettingValues = {}
  for (const field of settingFields(caps, model)) {
    const d = caps.defaults?.[field.key]
    if (d != null && (field.kind === 'seed' || field.options.includes(String(d))))
      values[field.key] = String(d)
    else if (field.kind !== 'seed' && field.options.length) values[field.key] = field.options[0]
  }
  return values
}

export const SEED_MAX = 2 ** 31 - 1

export function seedError(raw: string | undefined): string | null {
  if (raw == null || raw.trim() === '') return null
  if (!/^\d+$/.test(raw.trim())) return t('settings.seedWhole')
  const n = Number(raw.trim())
  return n > SEED_MAX ? t('settings.seedMax', { max: SEED_MAX }) : null
}

/** The `image_params` body: only keys the provider supports; an empty seed is left out. */
export function buildImageParams(caps: Capabilities, values: SettingValues): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const field of settingFields(caps, values.model)) {
    const raw = values[field.key]
    if (raw == null || raw === '') continue
    if (field.kind === 'seed') {
      if (seedError(raw) === null) params.seed = Number(raw.trim())
    } else if (field.options.includes(raw)) {
      params[field.key] = raw
    }
  }
  return params
}

/** A transparent background needs png or webp: choosing one side adjusts the other. */
export function withSetting(values: SettingValues, key: string, value: string): SettingValues {
  const next = { ...values, [key]: value }
  if (key === 'background' && value === 'transparent' && next.output_format === 'jpeg')
    next.output_format = 'png'
  if (key === 'output_format' && value === 'jpeg' && next.background === 'transparent')
    next.background = 'auto'
  return next
}

/** How many input images (references) the chosen model takes; 0: none (issue 19). */
export function maxInputImages(caps: Capabilities, model?: string): number {
  const chosen = caps.model_capabilities?.find((m) => m.id === (model ?? caps.defaults?.model))
  return chosen?.max_input_images ?? caps.max_input_images ?? 0
}
