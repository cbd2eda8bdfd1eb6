// The server's input limits as it ships them, used until `GET /api/providers` answers (and by
// unit tests as the limits a server gives).
import type { Limits } from './types'

export const FALLBACK_LIMITS: Limits = {
  max_iterations: 10,
  max_iterations_default: 3,
  target_score_default: 90,
  max_goal_chars: 2000,
  max_prompt_chars: 8000,
  max_feedback_chars: 2000,
  max_candidates: 4,
  candidates_default: 1,
  plateau_rounds_default: 2,
  max_checklist_items: 16,
}
