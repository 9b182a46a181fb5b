// Accessible tabs (WAI-ARIA tabs pattern): a tablist of buttons, arrow keys / Home / End move and
// select, one tabpanel shown. Panels stay unmounted until first chosen.
import { useId, useRef, type KeyboardEvent, type ReactNode } from "react";

export interface TabDef {
  id: string;
  label: ReactNode;
  /** The tab's accessible name when the label holds more than words (a count, an icon). */
  name?: string;
  panel: () => ReactNode;
}

export function Tabs({
  tabs,
  selected,
  onSelect,
  label,
}: {
  tabs: TabDef[];
  selected: string;
  onSelect: (id: string) => void;
  label: string;
}) {
  const base = useId();
  const refs = useRef<Map<string, HTMLButtonElement>>(new Map());
  const index = Math.max(
    0,
    tabs.findIndex((t) => t.id === selected),
  );
  const current = tabs[index]!;

  function onKeyDown(event: KeyboardEvent) {
    let next = -1;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next < 0) return;
    event.preventDefault();
    const tab = tabs[next]!;
    onSelect(tab.id);
    refs.current.get(tab.id)?.focus();
  }

  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist" onKeyDown={onKeyDown}>
        {tabs.map((tab) => {
          const active = tab.id === current.id;
          return (
            <button
              key={tab.id}
              ref={(el) => {
                if (el) refs.current.set(tab.id, el);
                else refs.current.delete(tab.id);
              }}
              type="button"
              role="tab"
              id={`${base}-tab-${tab.id}`}
              aria-selected={active}
              aria-controls={`${base}-panel-${tab.id}`}
              aria-label={tab.name}
              tabIndex={active ? 0 : -1}
              className="tab"
              onClick={() => onSelect(tab.id)}
            >
              {tab.label}
            </button>
          );
        })}
      </div>
      <div
        role="tabpanel"
        id={`${base}-panel-${current.id}`}
        aria-labelledby={`${base}-tab-${current.id}`}
        className="tabpanel"
        tabIndex={0}
      >
        {current.panel()}
      </div>
    </div>
  );
}
