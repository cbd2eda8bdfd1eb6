// Which image settings a provider allows, derived from its capabilities object alone
// (docs/API.md "Image parameters"), so a new provider needs no UI change.
import type { Capabilities } from '@/lib/types'

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
const LIST_FIELDS: { key: string; label: string; list: ListKey; when?: 'supports_style_presets' }[] = [
  { key: 'model', label: 'Model', list: 'models' },
  { key: 'aspect_ratio', label: 'Aspect ratio', list: 'supported_aspect_ratios' },
  { key: 'size', label: 'Size', list: 'supported_sizes' },
  { key: 'resolution', label: 'Resolution', list: 'supported_resolutions' },
  { key: 'quality', label: 'Quality', list: 'supported_qualities' },
  { key: 'output_format', label: 'Output format', list: 'supported_output_formats' },
  { key: 'background', label: 'Background', list: 'supported_backgrounds' },
  { key: 'style_preset', label: 'Style preset', list: 'style_presets', when: 'supports_style_presets' },
]

const CHIP_LIMIT = 8

export function settingFields(caps: Capabilities): SettingField[] {
  const fields: SettingField[] = []
  for (const f of LIST_FIELDS) {
    const options = caps[f.list] ?? []
    if (f.when && !caps[f.when]) continue
    // A single model is not a choice; other single-value lists still show what will be used.
    if (options.length === 0 || (f.key === 'model' && options.length < 2)) continue
    fields.push({
      key: f.key,
      label: f.label,
      kind: options.length > CHIP_LIMIT || f.key === 'model' ? 'select' : 'chips',
      options,
    })
  }
  if (caps.supports_seed) fields.push({ key: 'seed', label: 'Seed', kind: 'seed', options: [] })
  return fields
}

export type SettingValues = Record<string, string>

/** Start from the provider's defaults, for the fields it shows. */
export function initialValues(caps: Capabilities): SettingValues {
  const values: SettingValues = {}
  for (const field of settingFields(caps)) {
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
  if (!/^\d+$/.test(raw.trim())) return 'A seed is a whole number'
  const n = Number(raw.trim())
  return n > SEED_MAX ? `At most ${SEED_MAX}` : null
}

/** The `image_params` body: only keys the provider supports; an empty seed is left out. */
export function buildImageParams(caps: Capabilities, values: SettingValues): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const field of settingFields(caps)) {
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
