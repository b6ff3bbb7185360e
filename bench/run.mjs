// `pnpm bench` entry point: loads the TypeScript harness through tsx (no build step for the bench itself).
import { register } from 'tsx/esm/api'

register()
await import('./src/main.ts')
