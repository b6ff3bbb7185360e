import { RoomwireProvider } from '@roomwire/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app'
import { chat } from './protocol'
import './styles.css'

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <RoomwireProvider url={url} options={{ protocol: chat }}>
      <App />
    </RoomwireProvider>
  </StrictMode>,
)
