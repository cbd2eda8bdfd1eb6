import { currentLanguage } from '@/i18n'
import { Trans, useTranslation } from '@/i18n/react'
import { useEffect, useState } from 'react'

import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { CharCount, FieldLabel, TextArea } from '@/components/field'
import { PulsingLogo } from '@/components/pulsing-logo'
import { referenceApi } from '@/components/reference-api'
import { type DraftReference, referencesProblem, toInputs } from '@/components/reference-list'
import { ReferenceSlot } from '@/components/reference-slot'
import { useSubmitHotkey } from '@/hooks/use-submit-hotkey'
import { providerLabel } from '@/lib/provider-text'
import { describeError, type ReadableError } from '@/lib/api-client'
import { draftKeys, loadDraft, saveDraft } from '@/lib/drafts'
import type { CreateSessionResponse, ProvidersResponse } from '@/lib/types'

import { ProviderCards } from './provider-cards'
import { buildImageParams, initialValues, maxInputImages, seedError, type SettingValues } from './settings'
import { SettingsForm } from './settings-form'

interface Props {
  catalog: ProvidersResponse
  onCreated: (created: CreateSessionResponse) => void
}

function firstChoice(catalog: ProvidersResponse): string {
  return (catalog.providers.find((p) => p.available && !p.is_demo) ?? catalog.providers[0])?.name ?? ''
}

interface DescribeDraft {
  goal: string
  provider: string
  values: SettingValues
}

/** Step 1: the goal, the provider and its settings (a draft kept across reloads and navigation). */
export default function DescribeStep({ catalog, onCreated }: Props) {
  const { t } = useTranslation()
  const { limits } = catalog
  const [draft] = useState(() => {
    const d = loadDraft<DescribeDraft>(draftKeys.describe)
    return d && catalog.providers.some((p) => p.name === d.provider) ? d : null
  })
  const [goal, setGoal] = useState(draft?.goal ?? '')
  const [providerName, setProviderName] = useState(() => draft?.provider ?? firstChoice(catalog))
  const provider = catalog.providers.find((p) => p.name === providerName)
  const [values, setValues] = useState<SettingValues>(() =>
    draft ? draft.values : provider ? initialValues(provider.capabilities) : {},
  )
  useEffect(() => {
    saveDraft(draftKeys.describe, {
      goal,
      provider: providerName,
      values,
    } satisfies DescribeDraft)
  }, [goal, providerName, values])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ReadableError | null>(null)
  // Not in the draft: images are too large for local storage.
  const [references, setReferences] = useState<DraftReference[]>([])
  const modelMax = provider ? maxInputImages(provider.capabilities, values.model) : 0
  const modelName = values.model ?? (provider ? providerLabel(provider) : '')
  const refProblem = referencesProblem(references, modelMax)

  const choose = (name: string) => {
    setProviderName(name)
    const next = catalog.providers.find((p) => p.name === name)
    setValues(next ? initialValues(next.capabilities) : {})
  }

  const goalProblem =
    goal.length > limits.max_goal_chars
      ? t('describe.goalOver', { count: goal.length - limits.max_goal_chars, max: limits.max_goal_chars })
      : null
  const canSubmit =
    !busy &&
    goal.trim().length > 0 &&
    !goalProblem &&
    !refProblem &&
    !!provider &&
    seedError(values.seed) === null
  const submit = async () => {
    if (!canSubmit || !provider) return
    setBusy(true)
    setError(null)
    try {
      const created = await referenceApi.createSession(
        {
          goal: goal.trim(),
          provider: provider.name,
          image_params: buildImageParams(provider.capabilities, values),
          // The number of rounds is chosen on step 3, beside the candidates and the cost estimate.
          iterations_count: limits.max_iterations_default,
          // The judge's notes, the checklist and the advice come in the language on screen, even
          // for a goal written in another (an English goal on the Russian page reads in Russian).
          language: currentLanguage(),
        },
        toInputs(references),
      )
      onCreated(created)
    } catch (e) {
      setError(describeError(e))
      setBusy(false)
    }
  }
  useSubmitHotkey(canSubmit ? submit : null)

  return (
    <form
      className="space-y-5"
      onSubmit={(e) => {
        e.preventDefault()
        void submit()
      }}
    >
      <Card>
        <FieldLabel htmlFor="goal" hint={<CharCount value={goal} max={limits.max_goal_chars} />}>
          {t('describe.goalLabel')}
        </FieldLabel>
        <TextArea
          id="goal"
          rows={4}
          autoFocus
          value={goal}
          onChange={(e) => setGoal(e.target.value)}
          placeholder={t('describe.goalPlaceholder')}
          aria-invalid={!!goalProblem}
          aria-describedby={goalProblem ? 'goal-problem' : undefined}
        />
        {goalProblem && (
          <p id="goal-problem" className="mt-2 text-sm text-rose-300">
            {goalProblem}
          </p>
        )}
      </Card>

      <Card className="space-y-4">
        <h2 className="text-sm font-medium text-zinc-200">{t('describe.provider')}</h2>
        <ProviderCards providers={catalog.providers} selected={providerName} onSelect={choose} />
        {provider && !provider.available && (
          <p className="text-sm text-amber-200/90">
            <Trans
              i18nKey="describe.notConfigured"
              values={{ provider: providerLabel(provider), key: provider.missing_key }}
              components={{ code: <code className="rounded bg-zinc-800 px-1" /> }}
            />
          </p>
        )}
      </Card>

      {provider && (
        <Card className="space-y-5">
          <h2 className="text-sm font-medium text-zinc-200">
            {t('describe.settingsFor', { provider: providerLabel(provider) })}
          </h2>
          <SettingsForm capabilities={provider.capabilities} values={values} onChange={setValues} />
        </Card>
      )}

      {provider && (
        <Card>
          <ReferenceSlot
            items={references}
            onChange={setReferences}
            modelMax={modelMax}
            modelName={modelName}
          />
        </Card>
      )}

      <ErrorAlert error={error} onDismiss={() => setError(null)} />

      {/* On a phone the action stays in reach at the bottom of the screen. */}
      <div className="sticky bottom-0 z-10 -mx-3 flex flex-wrap items-center justify-end gap-3 border-t border-zinc-800 bg-zinc-950/95 px-3 py-2 backdrop-blur sm:static sm:mx-0 sm:border-0 sm:bg-transparent sm:p-0 sm:backdrop-blur-none">
        {goalProblem && <p className="mr-auto text-sm text-rose-300">{goalProblem}</p>}
        {!goalProblem && refProblem && (
          <p className="mr-auto text-sm text-rose-300" data-testid="references-problem">
            {refProblem}
          </p>
        )}
        {!goal.trim() && <p className="mr-auto text-sm text-zinc-300">{t('describe.first')}</p>}
        {busy && <PulsingLogo size="sm" label={t('describe.writing')} />}
        <span className="hidden text-xs text-zinc-400 sm:inline">{t('common.hotkey')}</span>
        <Button type="submit" variant="primary" size="lg" disabled={!canSubmit}>
          {t('describe.submit')}
        </Button>
      </div>
    </form>
  )
}
