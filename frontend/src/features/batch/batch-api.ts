// Batch runs (docs/API.md "Batches"): start, follow, cancel, and the report files.
import { request } from '@/lib/api-client'

export type GoalStatus = 'pending' | 'running' | 'done' | 'failed' | 'interrupted'

export interface BatchGoal {
  id: string
  goal: string
  category?: string | null
  session_id: string | null
  status: GoalStatus
  first_score: number | null
  best_score: number | null
  best_index: number | null
  first_checklist_pass: number | null
  best_checklist_pass: number | null
  best_vs_first: 'win' | 'loss' | 'tie' | null
  cost_usd: number
  seconds: number
  error: { code: string; message: string } | null
  stop_reason?: string | null
  first_image?: string | null
  best_image?: string | null
}

export interface BatchSummary {
  goals: number
  done: number
  failed: number
  win_rate: number | null
  loss_rate: number | null
  tie_rate: number | null
  mean_score_uplift: number | null
  mean_checklist_uplift: number | null
  cost_usd: number
  seconds: number
}

export interface BatchState {
  batch_id: string
  status: 'running' | 'done' | 'cancelled' | 'failed'
  provider: string
  started_at: string
  finished_at: string | null
  goals: BatchGoal[]
  summary: BatchSummary
}

export interface BatchBody {
  goals: string
  provider: string
  iterations: number
  candidates: number
  jobs: number
  budget_usd?: number
}

export interface BatchEstimate {
  usd: number
  low: number
  high: number
  goals: number
}

const batchPath = (id: string) => `/api/batches/${encodeURIComponent(id)}`

export const batchApi = {
  start: (body: BatchBody) => request<BatchState>('POST', '/api/batches', body),
  estimate: (body: BatchBody, signal?: AbortSignal) =>
    request<BatchEstimate>('POST', '/api/batches/estimate', body, { signal }),
  get: (id: string, signal?: AbortSignal) => request<BatchState>('GET', batchPath(id), undefined, { signal }),
  cancel: (id: string) => request<BatchState>('POST', `${batchPath(id)}/cancel`, {}),
  fileUrl: (id: string, name: string) => `${batchPath(id)}/files/${name}`,
  downloadUrl: (id: string) => `${batchPath(id)}/download`,
}

/** How many non-comment lines the pasted goals have (what the server will count as goals). */
export function countGoals(text: string): number {
  return text.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#')).length
}

export const pct = (value: number | null | undefined) => (value == null ? '–' : `${Math.round(value * 100)}%`)

export const signed = (value: number | null | undefined, digits = 1) =>
  value == null ? '–' : `${value > 0 ? '+' : ''}${value.toFixed(digits)}`
