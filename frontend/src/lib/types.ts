// Shapes of the SFUMATO HTTP API (docs/API.md). Only what the UI reads is typed strictly.

export type SessionStatus = 'draft' | 'running' | 'done' | 'failed'
export type StepName =
  'prompt_gen' | 'checklist' | 'rejudge' | 'revise' | 'generate' | 'judge' | 'pairwise' | 'recommend'
export type RunKind = 'generate' | 'optimize' | 'accept'
export type StopReason =
  'completed' | 'target_reached' | 'plateau' | 'budget' | 'cancelled' | 'error' | 'interrupted' | 'accepted'
export type RecommendationsStatus = 'none' | 'pending' | 'ready' | 'failed'

export interface ErrorInfo {
  code: string
  message: string
  details?: Record<string, unknown>
}

export interface Capabilities {
  name: string
  label: string
  description?: string
  is_demo: boolean
  key_env: string | null
  models: string[]
  supported_aspect_ratios: string[]
  supported_sizes: string[]
  supported_resolutions: string[]
  supported_qualities: string[]
  supported_output_formats: string[]
  supported_backgrounds: string[]
  supports_seed: boolean
  supports_negative_prompt: boolean
  supports_style_presets: boolean
  style_presets: string[]
  max_prompt_chars: number
  defaults: Record<string, unknown>
  prompt_layout?: string
  free_sizes?: FreeSizes | null
  model_capabilities?: ModelCapabilities[]
}

/** Free WIDTHxHEIGHT sizes: `sizes[aspect_ratio][resolution]` is the size that will be sent. */
export interface FreeSizes {
  experimental_above_pixels: number
  sizes: Record<string, Record<string, string>>
}

/** One model's own settings; they replace the provider's lists when that model is chosen. */
export interface ModelCapabilities {
  id: string
  description: string
  supported_aspect_ratios: string[]
  supported_sizes: string[]
  supported_resolutions: string[]
  supported_qualities: string[]
  supported_output_formats: string[]
  supported_backgrounds: string[]
  free_sizes: FreeSizes | null
  defaults: Record<string, unknown>
}

export interface ProviderInfo {
  name: string
  label: string
  description?: string
  is_demo: boolean
  available: boolean
  missing_key: string | null
  capabilities: Capabilities
}

export interface Limits {
  max_iterations: number
  max_iterations_default: number
  target_score_default: number
  max_goal_chars: number
  max_prompt_chars: number
  max_feedback_chars: number
  max_candidates: number
  candidates_default: number
  plateau_rounds_default: number
  max_checklist_items: number
}

export interface TextInfo {
  mode: 'offline' | 'openrouter' | string
  available: boolean
  missing_key: string | null
  models?: Record<string, string>
}

export interface ProvidersResponse {
  providers: ProviderInfo[]
  text: TextInfo
  limits: Limits
}

export interface ChecklistItem {
  id: string
  question: string
  source: 'goal' | 'feedback' | string
}

export type ChecklistAnswer = 'yes' | 'no' | 'unsure'

export interface ChecklistResult {
  id: string
  answer: ChecklistAnswer
  note: string
}

export interface EarlierJudgement {
  judge_score: number | null
  checklist_pass: number | null
  checklist_version: number | null
  judged_at?: string
}

export interface Pairwise {
  /** Index of the incumbent it was compared with. */
  against: number
  /** verdicts[0]: order (candidate, incumbent); verdicts[1]: (incumbent, candidate). */
  verdicts: string[]
  reasons?: string[]
  result: 'win' | 'loss' | 'tie'
}

export interface TextUsage {
  prompt_tokens: number
  completion_tokens: number
  cost_usd: number | null
}

export interface IterationCost {
  text?: TextUsage
  image_usage?: Record<string, unknown>
  image_cost_usd?: number | null
  image_cost_estimated?: boolean
}

export interface Iteration {
  index: number
  round?: number
  candidate?: number
  strategy?: string | null
  prompt_text: string
  rendered_prompt?: string | null
  rendered_negative?: string | null
  prompt_diff: string
  changed_blocks: string[]
  based_on: number | null
  image_path: string | null
  image_url: string | null
  /** A small JPEG (<= 320 px) of the image, made by the server on first request for older sessions. */
  thumbnail_url?: string | null
  image_mime?: string | null
  revised_prompt?: string | null
  judge_score: number | null
  judge_notes: string
  judge_strengths: string[]
  judge_weaknesses: string[]
  checklist_results?: ChecklistResult[]
  checklist_pass?: number | null
  checklist_version?: number | null
  earlier_judgements?: EarlierJudgement[]
  pairwise?: Pairwise | null
  user_feedback: string | null
  status: 'ok' | 'failed'
  error: ErrorInfo | null
  provider?: string
  image_model?: string | null
  text_model?: string | null
  timings?: {
    revise_ms?: number | null
    generate_ms?: number | null
    judge_ms?: number | null
    pairwise_ms?: number | null
  }
  cost?: IterationCost
  created_at?: string
}

export interface CurrentStep {
  iteration: number
  round?: number
  candidate?: number
  step: StepName
  started_at?: string
}

export interface RunInfo {
  kind: RunKind
  requested_iterations: number
  target_score: number | null
  candidates?: number
  plateau_rounds?: number
  budget_usd?: number | null
  rounds_done?: number
  rounds_without_win?: number
  estimate_usd?: number | null
  spent_usd?: number
  started_at: string
  finished_at: string | null
  stop_reason: StopReason | null
  cancel_requested: boolean
}

export interface Session {
  session_id: string
  user_goal: string
  image_provider: string
  image_params: Record<string, unknown>
  iterations_count: number
  target_score: number
  status: SessionStatus
  prompt_text: string
  locked_blocks: string[]
  user_feedback: string | null
  accepted: boolean
  checklist?: ChecklistItem[]
  checklist_version?: number
  checklist_feedback?: string | null
  iterations: Iteration[]
  best_index: number | null
  final_prompt_text: string | null
  final_prompt_rendered?: string | null
  recommendations: string[]
  recommendations_status?: RecommendationsStatus
  current_step: CurrentStep | null
  run: RunInfo | null
  error: ErrorInfo | null
  text_mode: string
  demo: boolean
  total_cost?: TextUsage
  cost_usd?: number
  llm_spend?: Record<string, { calls: number; calls_with_cost: number; usd: number }>
  created_at: string
  updated_at: string
}

export interface SessionSummary {
  session_id: string
  user_goal: string
  image_provider: string
  status: SessionStatus
  demo: boolean
  created_at: string
  updated_at: string
  iterations: number
  best_score: number | null
  best_image_url: string | null
  /** A small JPEG (<= 320 px) of the best image. */
  thumbnail_url?: string | null
}

/** One page of `GET /api/sessions`, newest first; `next_cursor` is null on the last page. */
export interface SessionPage {
  sessions: SessionSummary[]
  next_cursor: string | null
}

export interface SessionQuery {
  limit?: number
  cursor?: string | null
  status?: SessionStatus | null
  provider?: string | null
  q?: string | null
}

export interface CreateSessionBody {
  goal: string
  provider: string
  image_params?: Record<string, unknown>
  iterations_count?: number
  target_score?: number
}

export interface CreateSessionResponse {
  session_id: string
  first_prompt_text: string
  session: Session
}

export interface OptimizeBody {
  iterations_count?: number
  target_score?: number
  candidates?: number
  plateau_rounds?: number
  budget_usd?: number | null
}

export interface Estimate {
  usd: number
  low: number
  high: number
  llm_calls: number
  image_calls: number
  basis: {
    rounds?: number
    candidates?: number
    rejudge_incumbent?: boolean
    notes?: string[]
    image?: { provider?: string; model?: string; usd_per_image?: number; checked?: string; source?: string }
    text?: Record<string, { from?: string; model?: string }>
  }
}

export interface StepEvent {
  iteration: number
  round?: number
  candidate?: number
  step: StepName
  phase: 'start' | 'end'
  ok?: boolean
  duration_ms?: number
}
