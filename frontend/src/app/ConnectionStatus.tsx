import { useConnectionState } from "../realtime/connection";

const LABEL = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  refused: "Offline: not allowed",
} as const;

/** The board socket's state, always visible while a board is open (role status). */
export function ConnectionStatus() {
  const state = useConnectionState();
  if (state === "idle") return null;
  return (
    <span role="status" className={`connection connection-${state}`}>
      <span className="dot" aria-hidden="true" />
      {LABEL[state]}
    </span>
  );
}
