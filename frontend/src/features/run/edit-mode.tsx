import { useTranslation } from '@/i18n/react'

import { RadioGroup } from '@/components/radio-group'
import type { RunMode } from '@/components/reference-api'

/** "Keep everything, fix this": each candidate edits the best image instead of starting again. */
export function EditMode({
  mode,
  onChange,
  available,
}: {
  mode: RunMode
  onChange: (mode: RunMode) => void
  available: boolean
}) {
  const { t } = useTranslation()
  return (
    <div className="space-y-2" data-testid="edit-mode">
      <p className="text-sm font-medium text-zinc-200">{t('edit.mode')}</p>
      <RadioGroup<RunMode>
        label={t('edit.mode')}
        value={mode}
        onChange={onChange}
        options={[
          { value: 'generate', label: t('edit.modeGenerate') },
          { value: 'edit', label: t('edit.modeEdit'), disabled: !available },
        ]}
      />
      <p className="text-xs text-zinc-400">{available ? t('edit.modeEditHint') : t('edit.modeNone')}</p>
    </div>
  )
}
