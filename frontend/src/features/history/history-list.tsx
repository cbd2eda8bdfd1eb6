import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { ErrorAlert } from '@/components/error-alert'
import { PulsingLogo } from '@/components/pulsing-logo'
import { ScoreBadge, StatusBadge } from '@/components/status-badge'
import type { ReadableError } from '@/lib/api-client'
import type { SessionSummary } from '@/lib/types'

interface Props {
  sessions: SessionSummary[] | null
  error: ReadableError | null
  onOpen: (id: string) => void
  onRefresh: () => void
  onNew: () => void
}

const when = (iso: string) => {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** Past sessions, newest first; any of them can be reopened (running ones resume live). */
export default function HistoryList({ sessions, error, onOpen, onRefresh, onNew }: Props) {
  return (
    <Card className="space-y-4">
      <div className="flex items-center justify-between gap-3">
        <h2 className="text-base font-semibold text-zinc-100">History</h2>
        <Button size="sm" variant="ghost" onClick={onRefresh}>
          Refresh
        </Button>
      </div>
      <ErrorAlert error={error} />
      {!sessions && !error && <PulsingLogo size="sm" label="Loading sessions…" />}
      {sessions && sessions.length === 0 && (
        <div className="space-y-3 text-sm text-zinc-400">
          <p>No sessions yet.</p>
          <Button variant="primary" onClick={onNew}>
            Start one
          </Button>
        </div>
      )}
      {sessions && sessions.length > 0 && (
        <ul className="divide-y divide-zinc-800" data-testid="history-list">
          {sessions.map((s) => (
            <li key={s.session_id}>
              <button
                type="button"
                onClick={() => onOpen(s.session_id)}
                data-session={s.session_id}
                className="flex w-full items-center gap-3 py-3 text-left hover:bg-zinc-900/60 sm:gap-4 sm:px-2"
              >
                {s.best_image_url ? (
                  <img
                    src={s.best_image_url}
                    alt=""
                    loading="lazy"
                    className="size-14 shrink-0 rounded-lg border border-zinc-800 object-cover"
                  />
                ) : (
                  <div className="size-14 shrink-0 rounded-lg border border-dashed border-zinc-800" />
                )}
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm text-zinc-100">{s.user_goal}</p>
                  <p className="mt-0.5 text-xs text-zinc-500">
                    {s.image_provider}
                    {s.demo && ' (demo)'} · {s.iterations} image{s.iterations === 1 ? '' : 's'} ·{' '}
                    {when(s.updated_at)}
                  </p>
                </div>
                <div className="flex shrink-0 flex-col items-end gap-1 sm:flex-row sm:items-center sm:gap-2">
                  <StatusBadge status={s.status} />
                  <ScoreBadge score={s.best_score} />
                </div>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  )
}
