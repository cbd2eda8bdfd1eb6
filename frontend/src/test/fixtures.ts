// Objects shaped like the API's answers, for unit tests. They are typed with the generated types, so
// a change to the API's contract shows up here as a compile error.
import type { Capabilities, CurrentStep, Iteration, ProvidersResponse, RunInfo, Session } from '@/lib/types'

export const PROMPT = [
  '# SFUMATO prompt',
  '## FLEX_BEGIN:subject',
  'a red fox asleep in snow',
  '## FLEX_END:subject',
  '## FLEX_BEGIN:lighting',
  'soft diffused daylight',
  '## FLEX_END:lighting',
  '',
].join('\n')

export function makeIteration(index: number, extra: Partial<Iteration> = {}): Iteration {
  return {
    index,
    prompt_text: PROMPT,
    prompt_diff: index ? 'lighting: warmer' : '',
    changed_blocks: index ? ['lighting'] : [],
    based_on: index ? index - 1 : null,
    round: index,
    candidate: 0,
    strategy: null,
    rendered_prompt: null,
    rendered_negative: null,
    image_path: `iter_${index}.png`,
    image_url: `/media/s1/iter_${index}.png`,
    thumbnail_url: `/media/s1/thumb_${index}.jpg`,
    image_mime: 'image/png',
    revised_prompt: null,
    judge_score: 60 + index * 5,
    judge_notes: `notes ${index}`,
    judge_strengths: ['clear subject'],
    judge_weaknesses: ['flat light'],
    checklist_results: [],
    checklist_pass: null,
    checklist_version: 0,
    earlier_judgements: [],
    pairwise: null,
    user_feedback: null,
    status: 'ok',
    error: null,
    provider: 'demo',
    image_model: null,
    text_model: null,
    timings: { revise_ms: null, generate_ms: null, judge_ms: null, pairwise_ms: null },
    cost: {
      text: { prompt_tokens: 0, completion_tokens: 0, cost_usd: null },
      image_usage: {},
      image_cost_usd: null,
      image_cost_estimated: false,
    },
    edited_from: null,
    created_at: `2026-01-01T00:00:0${index}Z`,
    ...extra,
  }
}

export function makeSession(extra: Partial<Session> = {}): Session {
  return {
    session_id: 's1',
    user_goal: 'a fox',
    language: 'en',
    prompt_language: 'en',
    image_provider: 'demo',
    image_params: { aspect_ratio: '1:1' },
    iterations_count: 3,
    target_score: 90,
    status: 'draft',
    prompt_text: PROMPT,
    locked_blocks: [],
    user_feedback: null,
    accepted: false,
    checklist: [],
    checklist_version: 0,
    checklist_feedback: null,
    iterations: [],
    best_index: null,
    final_prompt_text: null,
    final_prompt_rendered: null,
    recommendations: [],
    recommendations_status: 'none',
    current_step: null,
    in_flight: [],
    run: null,
    error: null,
    text_mode: 'offline',
    demo: true,
    branched_from: null,
    references: [],
    total_cost: { prompt_tokens: 0, completion_tokens: 0, cost_usd: null },
    cost_usd: 0,
    llm_spend: {},
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    references_made: 0,
    ...extra,
  }
}

const DEMO_CAPS: Capabilities = {
  name: 'demo',
  label: 'Offline demo',
  description: '',
  is_demo: true,
  key_env: null,
  models: ['sfumato-demo-1'],
  supported_aspect_ratios: ['1:1', '3:2', '16:9'],
  supported_sizes: [],
  supported_resolutions: ['small', 'medium', 'large'],
  supported_qualities: [],
  supported_output_formats: ['png', 'jpeg'],
  supported_backgrounds: [],
  supports_seed: true,
  supports_negative_prompt: true,
  supports_style_presets: true,
  style_presets: ['none', 'photographic'],
  max_prompt_chars: 4000,
  defaults: { aspect_ratio: '1:1', resolution: 'small', output_format: 'png', style_preset: 'none' },
  prompt_layout: 'lines',
  guide: null,
  free_sizes: null,
  model_capabilities: [],
  max_input_images: 0,
}

export const makeCaps = (extra: Partial<Capabilities> = {}): Capabilities => ({ ...DEMO_CAPS, ...extra })

/** A providers catalogue (`GET /api/providers`): each provider's model takes `takes[name]` images. */
export const makeCatalog = (takes: Record<string, number>): ProvidersResponse =>
  ({
    providers: Object.entries(takes).map(([name, max]) => ({
      name,
      capabilities: makeCaps({ max_input_images: max }),
    })),
  }) as unknown as ProvidersResponse

export function makeRun(extra: Partial<RunInfo> = {}): RunInfo {
  return {
    kind: 'optimize',
    mode: 'generate',
    requested_iterations: 2,
    target_score: 90,
    candidates: 1,
    plateau_rounds: 2,
    budget_usd: null,
    rounds_done: 0,
    rounds_without_win: 0,
    estimate_usd: null,
    spent_usd: 0,
    started_at: '2026-01-01T00:00:00Z',
    finished_at: null,
    stop_reason: null,
    cancel_requested: false,
    ...extra,
  }
}

export function makeStep(
  iteration: number,
  step: CurrentStep['step'],
  extra: Partial<CurrentStep> = {},
): CurrentStep {
  return { iteration, step, round: iteration, candidate: 0, started_at: '2026-01-01T00:00:00Z', ...extra }
}
