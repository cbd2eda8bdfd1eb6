// "Use this prompt": a new session with the same goal and settings whose editable prompt is an
// earlier iteration's prompt. Made with the ordinary API (create, then save the prompt and locks).
import { api } from './api-client'
import { normalizeLocks } from './flex'
import type { Session } from './types'

export async function branchSession(session: Session, promptText: string): Promise<Session> {
  const created = await api.createSession({
    goal: session.user_goal,
    provider: session.image_provider,
    image_params: session.image_params,
    iterations_count: session.iterations_count,
    target_score: session.target_score,
  })
  return api.savePrompt(
    created.session_id,
    promptText,
    normalizeLocks(promptText, session.locked_blocks ?? []),
  )
}
