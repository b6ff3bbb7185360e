import { Logo } from './logo'
import { NameForm } from './name-form'

/** First visit: pick a name. */
export function Welcome({ onJoin }: { onJoin: (name: string) => void }) {
  return (
    <main className="welcome">
      <div className="welcome-card">
        <p className="brand">
          <Logo /> roomwire
        </p>
        <h1>Chat in real time</h1>
        <p className="lede">
          A small chat on typed WebSocket rooms: presence, typing, delivery receipts, history and reconnects.
          Open this page in a second window to talk to yourself.
        </p>
        <NameForm submitLabel="Join" onSubmit={onJoin} />
      </div>
    </main>
  )
}
