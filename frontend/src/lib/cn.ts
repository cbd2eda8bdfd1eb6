// Merge class names: clsx for conditionals, tailwind-merge so later utilities win over earlier ones.
import { type ClassValue, clsx } from 'clsx'
import { twMerge } from 'tailwind-merge'

export function cn(...inputs: ClassValue[]): string {
  return twMerge(clsx(inputs))
}
