// Objects shaped like docs/API.md answers, for unit tests.
import type { Capabilities, Iteration, Session } from '@/lib/types'

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
    image_path: `iter_${index}.png`,
    image_url: `/media/s1/iter_${index}.png`,
    judge_score: 60 + index * 5,
    judge_notes: `notes ${index}`,
    judge_strengths: ['clear subject'],
    judge_weaknesses: ['flat light'],
    user_feedback: null,
    status: 'ok',
    error: null,
    created_at: `2026-01-01T00:00:0${index}Z`,
    ...extra,
  }
}

export function makeSession(extra: Partial<Session> = {}): Session {
  return {
    session_id: 's1',
    user_goal: 'a fox',
    image_provider: 'demo',
    image_params: { aspect_ratio: '1:1' },
    iterations_count: 3,
    target_score: 90,
    status: 'draft',
    prompt_text: PROMPT,
    locked_blocks: [],
    user_feedback: null,
    accepted: false,
    iterations: [],
    best_index: null,
    final_prompt_text: null,
    recommendations: [],
    current_step: null,
    run: null,
    error: null,
    text_mode: 'offline',
    demo: true,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...extra,
  }
}

export function makeCaps(extra: Partial<Capabilities> = {}): Capabilities {
  return {
    name: 'demo',
    label: 'Offline demo',
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
    ...extra,
  }
}
