import { useTranslation } from '@/i18n/react'

import type { Iteration } from '@/lib/types'

/**
 * Why a score differs from the one shown earlier: the image was judged again when the checklist was
 * rewritten (a new feedback), so "74 on Review, 70 on Result" says so instead of changing silently.
 */
export function RejudgeNote({ it }: { it: Iteration }) {
  const { t } = useTranslation()
  const earlier = (it.earlier_judgements ?? []).filter((j) => j.judge_score != null)
  if (!earlier.length || it.judge_score == null) return null
  const before = earlier[earlier.length - 1]
  return (
    <p className="text-xs text-amber-200/90" data-testid="rejudged">
      {t('rejudge.note', {
        version: it.checklist_version,
        before: before.judge_score,
        after: it.judge_score,
      })}
    </p>
  )
}
