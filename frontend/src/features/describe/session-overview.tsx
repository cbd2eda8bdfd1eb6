import { useTranslation } from '@/i18n/react'

import { settingLabel } from './settings'
import { Button } from '@/components/button'
import { Card } from '@/components/card'
import { StatusBadge } from '@/components/status-badge'
import type { Session } from '@/lib/types'

/** Step 1 for an existing session: what was asked, read-only, and a way to start afresh. */
export function SessionOverview({ session, onNew }: { session: Session; onNew: () => void }) {
  const { t } = useTranslation()
  const params = Object.entries(session.image_params ?? {})
  return (
    <Card className="space-y-4">
      <div className="flex items-center justify-between gap-3">
        <h2 className="text-base font-semibold text-zinc-100">{t('overview.goal')}</h2>
        <StatusBadge status={session.status} />
      </div>
      <p className="text-sm whitespace-pre-wrap text-zinc-200">{session.user_goal}</p>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-zinc-400">{t('overview.provider')}</dt>
        <dd className="text-zinc-200">
          {session.image_provider}
          {session.demo && t('overview.demo')}
        </dd>
        {params.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-zinc-400">{settingLabel(k)}</dt>
            <dd className="font-mono text-zinc-200">{String(v)}</dd>
          </div>
        ))}
        <dt className="text-zinc-400">{t('overview.iterations')}</dt>
        <dd className="text-zinc-200">{session.iterations_count}</dd>
      </dl>
      <Button variant="primary" onClick={onNew}>
        {t('overview.startNew')}
      </Button>
    </Card>
  )
}
