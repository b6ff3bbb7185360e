import type { ScenarioResult } from '../suite-runner'
export function writeReport(_r: ScenarioResult[], _o: { size: string; durationMs: number }): string[] {
  return []
}
