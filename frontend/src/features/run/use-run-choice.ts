import { useState } from 'react'

import { useInputImages } from '@/components/reference-capacity'
import { initialChoice, optimizeBody, type RunChoice, usableChoice } from '@/lib/run-choice'
import type { Limits, OptimizeBody, Session } from '@/lib/types'

/**
 * The run options a form holds before an optimize run: the choice (`start` over the session's
 * defaults), the props `RunOptions` shows it with, and the body the run sends, in edit mode only
 * where the session's model takes an input image.
 */
export function useRunChoice(session: Session, limits: Limits, start: Partial<RunChoice> = {}) {
  const [choice, setChoice] = useState<RunChoice>(() => ({ ...initialChoice(session, limits), ...start }))
  const inputImages = useInputImages(session)
  return {
    choice,
    inputImages,
    // Unknown until the catalogue answers: no edit-mode choice is shown before then.
    options: { session, limits, choice, onChange: setChoice, inputImages: inputImages ?? undefined },
    body: (): OptimizeBody => optimizeBody(usableChoice(choice, inputImages)),
  }
}
