import icon from '../../../assets/logo_icon_96.png'
import { cn } from '@/lib/cn'

interface Props {
  label?: string
  size?: 'sm' | 'md' | 'lg'
  className?: string
}

const SIZES = { sm: 'size-8', md: 'size-14', lg: 'size-24' }

/** The wait indicator: the SFUMATO orb breathing. */
export function PulsingLogo({ label, size = 'md', className }: Props) {
  return (
    <div role="status" aria-live="polite" className={cn('flex items-center gap-3', className)}>
      <img src={icon} alt="" className={cn('animate-breathe rounded-full', SIZES[size])} />
      {label && <span className="text-sm text-zinc-300">{label}</span>}
    </div>
  )
}
