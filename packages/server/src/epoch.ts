import { randomId } from './random-id'

/** A fresh epoch name: random, so a restarted process never reuses one. */
export function newEpoch(): string {
  return randomId('e_', 9)
}
