import type { ResyncInfo } from '@roomwire/client'

const WHY: Record<ResyncInfo['reason'], string> = {
  epoch:
    'The server lost this room’s history while you were away (a restart without saved state, or the room expired).',
  reset: 'The server lost this room’s history while you were here.',
  not_recovered: 'You were away longer than the server keeps history.',
  gap: 'A message did not arrive in time and was skipped.',
}

/** Shown only when the room emitted `resync`: somewhere before what follows, messages may be missing. */
export function ResyncNotice({ info, onDismiss }: { info: ResyncInfo; onDismiss: () => void }) {
  return (
    <div className="notice warn" data-resync={info.reason}>
      <p>
        <strong>Messages may be lost.</strong> {WHY[info.reason]} Everything after that is shown, in order.
      </p>
      <button type="button" className="quiet" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  )
}
