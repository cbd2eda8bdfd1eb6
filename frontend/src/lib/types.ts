// Shapes of the SFUMATO HTTP API, named for the UI. Every one comes from `api.gen.ts`, which is
// generated from the server's OpenAPI description (`make types`); `make lint` fails when it drifts.
import type { components, operations } from './api.gen'

type Schemas = components['schemas']

export type Session = Schemas['Session']
export type SessionStatus = Session['status']
export type Iteration = Schemas['Iteration']
export type CurrentStep = Schemas['CurrentStep']
export type StepName = CurrentStep['step']
export type RunInfo = Schemas['RunInfo']
export type RunKind = RunInfo['kind']
export type StopReason = NonNullable<RunInfo['stop_reason']>
export type RecommendationsStatus = Session['recommendations_status']
export type ErrorInfo = Schemas['ErrorInfo']
export type ChecklistItem = Schemas['ChecklistItem']
export type ChecklistResult = Schemas['ChecklistResult']
export type ChecklistAnswer = ChecklistResult['answer']
export type EarlierJudgement = Schemas['Judgement']
export type Pairwise = Schemas['Pairwise']
export type TextUsage = Schemas['Usage']
export type IterationCost = Schemas['IterationCost']

export type Capabilities = Schemas['ProviderCapabilities']
/** Free WIDTHxHEIGHT sizes: `sizes[aspect_ratio][resolution]` is the size that will be sent. */
export type FreeSizes = Schemas['FreeSizes']
/** One model's own settings; they replace the provider's lists when that model is chosen. */
export type ModelCapabilities = Schemas['ModelCapabilities']
export type ProviderInfo = Schemas['ProviderInfo']
export type Limits = Schemas['Limits']
export type TextInfo = Schemas['TextModelInfo']
export type ProvidersResponse = Schemas['ProvidersResponse']

export type SessionSummary = Schemas['SessionSummary']
/** One page of `GET /api/sessions`, newest first; `next_cursor` is null on the last page. */
export type SessionPage = Schemas['SessionList']
export type CreateSessionBody = Schemas['CreateSessionRequest']
export type CreateSessionResponse = Schemas['CreateSessionResponse']
export type OptimizeBody = Schemas['OptimizeRequest']
export type Estimate = Schemas['CostEstimate']
export type ApiErrorBody = Schemas['ErrorBody']

/** The query of `GET /api/sessions`: one page, newest first, optionally filtered. */
export type SessionQuery = NonNullable<operations['get_api_sessions']['parameters']['query']>

// Batches (docs/API.md "Batches"): a batch's state, one goal's row, the form's body and estimate.
export type BatchState = Schemas['BatchState']
export type BatchGoal = Schemas['GoalResult']
export type BatchBody = Schemas['BatchRequest']
export type BatchEstimate = Schemas['BatchEstimate']
export type BatchRow = Schemas['BatchRow']
export type BatchList = Schemas['BatchList']
