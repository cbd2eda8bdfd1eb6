import { t } from '@/i18n'
import type { SessionStatus } from '@/lib/types'
import { cn } from '@/lib/cn'

const STYLES: Record<SessionStatus, string> = {
  draft: 'border-zinc-600 text-zinc-300',
  running: 'border-sky-600 text-sky-200 bg-sky-950/40',
  done: 'border-emerald-700 text-emerald-200 bg-emerald-950/40',
  failed: 'border-rose-700 text-rose-200 bg-rose-950/40',
}

export function StatusBadge({ status, className }: { status: SessionStatus; className?: string }) {
  return (
    <span className={cn('rounded-full border px-2 py-0.5 text-xs font-medium', STYLES[status], className)}>
      {t(`status.${status}`)}
    </span>
  )
}

export function ScoreBadge({ score, className }: { score: number | null; className?: string }) {
  const tone =
    score == null
      ? 'border-zinc-700 text-zinc-400'
      : score >= 80
        ? 'border-emerald-600 text-emerald-200'
        : score >= 60
          ? 'border-amber-600 text-amber-200'
          : 'border-rose-700 text-rose-200'
  return (
    <span
      className={cn('rounded-md border px-2 py-0.5 font-mono text-sm tabular-nums', tone, className)}
      title={t('score.title')}
    >
      {score == null ? '—' : score}
      <span className="text-xs opacity-60">/100</span>
    </span>
  )
}
