import { randomBytes } from 'node:crypto'

/** A fresh epoch name: random, so a restarted process never reuses one. */
export function newEpoch(): string {
  return `e_${randomBytes(9).toString('base64url')}`
}
