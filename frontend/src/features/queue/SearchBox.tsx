// The full-text search (`q`): typed text reaches the URL after a short pause (history replaced).
// `/` focuses it.
import { useEffect, useRef, useState } from "react";
import { useCommands } from "../../commands/registry";

export function SearchBox({ value, onSearch }: { value: string; onSearch(q: string): void }) {
  const [text, setText] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  useCommands([
    {
      id: "queue:search",
      title: "Search tickets",
      group: "Queue",
      keys: "/",
      run: () => input.current?.select(),
    },
  ]);
  // The URL changed from elsewhere (a saved view, clear filters): follow it unless typing.
  useEffect(() => {
    if (document.activeElement !== input.current) setText(value);
  }, [value]);
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => onSearch(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text, value, onSearch]);
  return (
    <input
      ref={input}
      type="search"
      className="queue-search"
      aria-label="Search tickets"
      placeholder="Search tickets"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") onSearch(text.trim());
      }}
    />
  );
}
