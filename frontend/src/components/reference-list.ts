// The references a person is putting together on the goal form, and the rules the server also checks
// (issue 19): png/jpeg/webp only, MAX_REFERENCE_BYTES each, as many as the chosen model takes (at most
// MAX_REFERENCES). What the goal form itself needs; the picker's file checks are in reference-files.ts.
import { t } from '@/i18n'
import { MAX_REFERENCE_LABEL_CHARS, MAX_REFERENCES } from '@/lib/limits.gen'

import type { ReferenceInput } from './reference-api'

/** One reference on the form: what will be sent, and what the form shows about it. */
export interface DraftReference extends ReferenceInput {
  key: string
  name: string
}

/** How many references the chosen model takes, never more than SFUMATO keeps. */
export const referenceCap = (modelMax: number): number => Math.max(0, Math.min(modelMax, MAX_REFERENCES))

/** What goes to the server: image, role and the trimmed label, in the order on screen. */
export const toInputs = (items: DraftReference[]): ReferenceInput[] =>
  items.map(({ image, role, label }) => ({ image, role, label: label.trim() }))

/** Why the form cannot be sent with these references for this model, or null. */
export function referencesProblem(items: DraftReference[], modelMax: number): string | null {
  if (!items.length) return null
  if (modelMax <= 0) return t('references.modelTakesNoneBlock')
  const cap = referenceCap(modelMax)
  if (items.length > cap) return t('references.tooMany', { count: items.length - cap, max: cap })
  if (items.some((r) => r.label.trim().length > MAX_REFERENCE_LABEL_CHARS))
    return t('references.labelTooLong', { max: MAX_REFERENCE_LABEL_CHARS })
  return null
}
