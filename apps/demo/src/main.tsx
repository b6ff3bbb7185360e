import { RoomwireProvider } from '@roomwire/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app'
import { chat } from './protocol'
import './styles.css'

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
// Backoff capped at 5 s, not the client's 30 s: the demo's server restarts in a few seconds, and one tab
// should be back soon after it. An app with thousands of clients keeps the longer cap to spread the herd.
const options = { protocol: chat, reconnect: { maxMs: 5_000 } }

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <RoomwireProvider url={url} options={options}>
      <App />
    </RoomwireProvider>
  </StrictMode>,
)
