import { useTranslation } from '@/i18n/react'

import { Disclosure } from '@/components/disclosure'

import { EditImage } from './edit-image'
import { RejudgeNote } from './rejudge-note'
import star from '../../../../assets/star_80.png'
import { ChecklistTicks } from '@/components/checklist-ticks'
import { ErrorAlert } from '@/components/error-alert'
import { JudgeNotes } from '@/components/judge-notes'
import { PairwiseBadge } from '@/components/pairwise-badge'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge } from '@/components/status-badge'
import { BranchButton, type BranchFn } from '@/features/run/branch-button'
import { i18n, t } from '@/i18n'
import { describeError } from '@/lib/api-client'
import { cn } from '@/lib/cn'
import { blockLabel } from '@/lib/flex'
import { byRound, isSingleEdit, percent, STEP_LABELS } from '@/lib/flow'
import type { CurrentStep } from '@/lib/types'
import type { ChecklistItem, Iteration, Session } from '@/lib/types'
import { changeNote } from './server-notes'

const COLUMNS: Record<number, string> = {
  1: 'sm:grid-cols-2',
  2: 'sm:grid-cols-2',
  3: 'sm:grid-cols-2 lg:grid-cols-3',
  4: 'sm:grid-cols-2 lg:grid-cols-4',
}

interface Props {
  iterations: Iteration[]
  bestIndex: number | null
  checklist: ChecklistItem[]
  checklistVersion?: number
  /** The iteration being made right now, shown as a placeholder until its image arrives. */
  pending?: CurrentStep | null
  onOpen: (index: number) => void
  onBranch: BranchFn
  /** "Edit this image" on each image, where the session's model takes input images (issue 19). */
  edit?: EditOptions | null
}

export interface EditOptions {
  sessionId: string
  maxChars: number
  disabled: boolean
  onSession: (session: Session) => void
}

function Card({
  it,
  best,
  checklist,
  checklistVersion,
  onOpen,
  onBranch,
  edit,
}: {
  it: Iteration
  best: boolean
  checklist: ChecklistItem[]
  checklistVersion?: number
  onOpen: () => void
  onBranch: BranchFn
  edit?: EditOptions | null
}) {
  const { t } = useTranslation()
  return (
    <li
      data-index={it.index}
      data-best={best}
      data-status={it.status}
      className={cn(
        // The picture on the left, what happened to it on the right: a card is as short as its text.
        'grid min-w-0 grid-cols-[6.5rem_minmax(0,1fr)] content-start gap-x-3 gap-y-2 rounded-xl border bg-zinc-950/60 p-3 sm:grid-cols-[9rem_minmax(0,1fr)]',
        best ? 'border-amber-400/70 shadow-lg shadow-amber-500/10' : 'border-zinc-800',
        it.status === 'failed' && 'border-rose-900',
      )}
    >
      <div className="col-span-2 flex items-center justify-between gap-2 text-sm">
        <span className="font-medium text-zinc-100">
          {it.index === 0 ? t('image.first') : `#${it.index}`}
          {it.strategy && (
            <span className="ml-2 text-xs font-normal text-zinc-400">{strategyText(it.strategy)}</span>
          )}
          {it.edited_from != null && (
            <span className="ml-2 text-xs font-normal text-violet-300" data-testid="edited-from">
              {t('edit.editedFrom', { n: it.edited_from })}
            </span>
          )}
        </span>
        <div className="flex items-center gap-2">
          {best && (
            <span className="inline-flex items-center gap-1 rounded-full bg-amber-500/20 py-0.5 pr-2 pl-1 text-xs font-medium text-amber-200">
              <img src={star} alt="" width={16} height={16} className="size-4" />
              {t('timeline.best')}
            </span>
          )}
          <ScoreBadge score={it.judge_score} />
        </div>
      </div>
      {it.image_url ? (
        <button
          type="button"
          onClick={onOpen}
          aria-label={t('timeline.open', { n: it.index })}
          className="block w-full cursor-zoom-in self-start overflow-hidden rounded-lg border border-zinc-800 focus-visible:outline-2 focus-visible:outline-violet-400"
        >
          <img
            src={it.thumbnail_url ?? it.image_url}
            alt={t('image.alt', { n: it.index })}
            loading="lazy"
            className="h-auto max-h-40 w-full bg-zinc-950 object-contain"
          />
        </button>
      ) : (
        <div className="flex aspect-square items-center justify-center self-start rounded-lg border border-dashed border-zinc-700 p-2 text-center text-xs text-zinc-400">
          {it.status === 'failed' ? t('timeline.failed') : t('timeline.noImageYet')}
        </div>
      )}
      <div className="min-w-0 space-y-2">
        <RejudgeNote it={it} />
        {it.checklist_pass != null && (
          <p className="text-xs text-zinc-300">
            {t('checklist.passed', { pct: percent(it.checklist_pass) })}
          </p>
        )}
        {it.pairwise && <PairwiseBadge pairwise={it.pairwise} />}
        {it.status === 'failed' && it.error && <ErrorAlert error={describeError(it.error)} />}
        {changeNote(it.prompt_diff) && <p className="text-xs text-zinc-300">{changeNote(it.prompt_diff)}</p>}
        {it.changed_blocks.length > 0 && (
          <div className="flex flex-wrap gap-1">
            {it.changed_blocks.map((b) => (
              <span key={b} className="rounded bg-zinc-800 px-1.5 py-0.5 text-[11px] text-zinc-200">
                {blockLabel(b)}
              </span>
            ))}
          </div>
        )}
        {it.status === 'ok' && it.judge_score == null && (
          <p className="animate-pulse text-xs text-violet-300">{t('timeline.judging')}</p>
        )}
        {it.status === 'ok' && it.judge_score != null && (
          <Disclosure summary={t('timeline.notes')}>
            <JudgeNotes iteration={it} />
            <ChecklistTicks iteration={it} checklist={checklist} version={checklistVersion} />
          </Disclosure>
        )}
        {(it.rendered_prompt || it.revised_prompt) && (
          <Disclosure summary={t('timeline.promptSent')} data-testid="prompt-sent">
            <div className="space-y-2">
              {it.rendered_prompt && (
                <pre
                  tabIndex={0}
                  className="max-h-60 overflow-auto rounded-lg bg-zinc-900 p-2 font-mono text-xs whitespace-pre-wrap text-zinc-200 focus-visible:outline-2 focus-visible:outline-violet-400"
                >
                  {it.rendered_prompt}
                </pre>
              )}
              {it.rendered_negative && (
                <p className="text-xs text-zinc-300">
                  {t('hero.negativeLabel')} {it.rendered_negative}
                </p>
              )}
              {it.revised_prompt && (
                <div>
                  <p className="text-xs text-zinc-400">{t('timeline.rewrote')}</p>
                  <pre
                    tabIndex={0}
                    className="max-h-60 overflow-auto rounded-lg bg-zinc-900 p-2 font-mono text-xs whitespace-pre-wrap text-zinc-200 focus-visible:outline-2 focus-visible:outline-violet-400"
                  >
                    {it.revised_prompt}
                  </pre>
                </div>
              )}
            </div>
          </Disclosure>
        )}
        <div className="flex flex-wrap gap-2">
          <BranchButton iteration={it.index} onBranch={onBranch} variant="ghost" className="-ml-2 px-2" />
          {edit && it.status === 'ok' && it.image_url && (
            <EditImage
              sessionId={edit.sessionId}
              index={it.index}
              maxChars={edit.maxChars}
              disabled={edit.disabled}
              onSession={edit.onSession}
            />
          )}
        </div>
      </div>
    </li>
  )
}

/** A candidate's strategy (app/services/prompt_service.py STRATEGIES) in the language on screen. */
const strategyText = (name: string) =>
  i18n.exists(`timeline.strategy.${name}`) ? t(`timeline.strategy.${name}`) : name

const EDITS = -1 // the group of single edits ("Edit this image"), shown after the rounds

/** The rounds, then the single edits made outside any run (their round is 0, as the first image's). */
function withEdits(iterations: Iteration[]): { round: number; items: Iteration[] }[] {
  const groups = byRound(iterations.filter((it) => !isSingleEdit(it)))
  const edits = iterations.filter(isSingleEdit)
  return edits.length ? [...groups, { round: EDITS, items: edits }] : groups
}

function groupTitle(round: number): string {
  if (round === EDITS) return t('edit.group')
  return round === 0 ? t('image.first') : t('timeline.round', { n: round })
}

/** Every image, grouped by round: the candidates of a round side by side, the compared one marked. */
export function Timeline({
  iterations,
  bestIndex,
  checklist,
  checklistVersion,
  pending,
  onOpen,
  onBranch,
  edit,
}: Props) {
  const { t } = useTranslation()
  const groups = withEdits(iterations)
  // As many columns as the widest round has candidates, so a round fills the width.
  const widest = Math.max(1, ...groups.map((g) => g.items.length))
  const showPending =
    pending && pending.step !== 'recommend' && !iterations.some((it) => it.index === pending.iteration)
  return (
    <div
      className={widest === 1 ? 'grid gap-4 sm:grid-cols-2 lg:grid-cols-3' : 'space-y-5'}
      data-testid="timeline"
    >
      {groups.map((g) => (
        <section key={g.round} data-round={g.round} aria-label={groupTitle(g.round)}>
          <h3 className="mb-2 text-sm font-medium text-zinc-200">
            {groupTitle(g.round)}
            {g.items.length > 1 && (
              <span className="ml-2 font-normal text-zinc-400">
                {t('count.candidates', { count: g.items.length })}
              </span>
            )}
          </h3>
          <ol className={cn('grid gap-3', widest > 1 && COLUMNS[Math.min(widest, 4)])}>
            {g.items.map((it) => (
              <Card
                key={it.index}
                it={it}
                best={it.index === bestIndex}
                checklist={checklist}
                checklistVersion={checklistVersion}
                onOpen={() => onOpen(it.index)}
                onBranch={onBranch}
                edit={edit}
              />
            ))}
          </ol>
        </section>
      ))}
      {showPending && (
        <div
          data-pending={pending.iteration}
          className="flex min-h-40 flex-col items-center justify-center gap-3 rounded-xl border border-dashed border-violet-800/70 p-3"
        >
          <span className="text-sm text-zinc-300">#{pending.iteration}</span>
          <PulsingLogo size="md" />
          <span className="text-xs text-zinc-300">{STEP_LABELS[pending.step]}…</span>
        </div>
      )}
    </div>
  )
}
