import { useTranslation } from '@/i18n/react'
import { Chip } from '@/components/chip'
import { FieldLabel } from '@/components/field'
import type { Capabilities } from '@/lib/types'

import {
  changeModel,
  modelDescription,
  plannedSize,
  seedError,
  settingFields,
  type SettingValues,
  withSetting,
} from './settings'
import { settingValueLabel } from '@/lib/provider-text'

interface Props {
  capabilities: Capabilities
  values: SettingValues
  onChange: (values: SettingValues) => void
}

const sizeText = (size: string) => size.replace('x', ' × ')

/** Only the settings the chosen model allows; a free-size model shows the size it will send. */
export function SettingsForm({ capabilities, values, onChange }: Props) {
  const { t } = useTranslation()
  const fields = settingFields(capabilities, values.model)
  const set = (key: string, value: string) =>
    onChange(key === 'model' ? changeModel(capabilities, values, value) : withSetting(values, key, value))
  const planned = plannedSize(capabilities, values)
  const about = modelDescription(capabilities, values.model)
  if (fields.length === 0) {
    return <p className="text-sm text-zinc-400">{t('settings.none')}</p>
  }
  return (
    <div className="grid gap-5 sm:grid-cols-2" data-testid="settings-form">
      {fields.map((field) => {
        const id = `setting-${field.key}`
        if (field.kind === 'chips') {
          return (
            <div key={field.key} className="sm:col-span-2">
              <FieldLabel>{field.label}</FieldLabel>
              <div role="radiogroup" aria-label={field.label} className="flex flex-wrap gap-2">
                {field.options.map((opt) => (
                  <Chip key={opt} selected={values[field.key] === opt} onClick={() => set(field.key, opt)}>
                    {settingValueLabel(opt)}
                  </Chip>
                ))}
              </div>
            </div>
          )
        }
        if (field.kind === 'select') {
          return (
            <div key={field.key}>
              <FieldLabel htmlFor={id}>{field.label}</FieldLabel>
              <select
                id={id}
                value={values[field.key] ?? ''}
                onChange={(e) => set(field.key, e.target.value)}
                className="h-10 w-full rounded-lg border border-zinc-700 bg-zinc-950 px-3 text-sm text-zinc-100 focus:border-violet-400 focus:outline-none"
              >
                {field.options.map((opt) => (
                  <option key={opt} value={opt}>
                    {settingValueLabel(opt)}
                  </option>
                ))}
              </select>
              {field.key === 'model' && about && (
                <p className="mt-1 text-xs text-zinc-400" data-testid="model-description">
                  {about}
                </p>
              )}
            </div>
          )
        }
        const error = seedError(values.seed)
        return (
          <div key={field.key}>
            <FieldLabel htmlFor={id} hint={t('settings.seedHint')}>
              {field.label}
            </FieldLabel>
            <input
              id={id}
              inputMode="numeric"
              value={values.seed ?? ''}
              onChange={(e) => set('seed', e.target.value)}
              placeholder={t('settings.seedPlaceholder')}
              aria-invalid={error !== null}
              className="h-10 w-full rounded-lg border border-zinc-700 bg-zinc-950 px-3 text-sm text-zinc-100 placeholder:text-zinc-600 focus:border-violet-400 focus:outline-none aria-invalid:border-rose-500"
            />
            {error && <p className="mt-1 text-xs text-rose-300">{error}</p>}
          </div>
        )
      })}
      {planned && (
        <p className="text-sm text-zinc-300 sm:col-span-2" data-testid="planned-size">
          {t('settings.sizeSent')} <span className="font-mono text-violet-300">{sizeText(planned.size)}</span>{' '}
          {t('settings.px')}
          {planned.experimental && (
            <span className="ml-2 text-xs text-amber-300">{t('settings.experimental')}</span>
          )}
        </p>
      )}
    </div>
  )
}
