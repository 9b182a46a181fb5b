// The API's ticket filters as controls; every change goes to the URL (and back to page one).
import { useQuery } from "@tanstack/react-query";
import { statusesQuery } from "../../api/queue";
import { listOf, withFilter, type FilterKey, type QueueSearch } from "./search";

const PRIORITIES = ["critical", "high", "medium", "low"].map((v) => ({ value: v, label: v }));
const SLA_STATES = [
  ["on_track", "On track"],
  ["near_breach", "Near breach"],
  ["breached", "Breached"],
  ["paused", "Paused"],
  ["met", "Met"],
  ["no_sla", "No SLA"],
].map(([value, label]) => ({ value: value!, label: label! }));

interface Props {
  search: QueueSearch;
  projects: string[];
  onChange(next: QueueSearch): void;
}

export function QueueFilters({ search, projects, onChange }: Props) {
  const statuses = useQuery(statusesQuery).data ?? [];
  const set = (key: FilterKey, value: string | string[] | undefined) =>
    onChange(withFilter(search, key, value));
  return (
    <div className="queue-filters" role="group" aria-label="Filters">
      <label>
        Project
        <select value={search.project ?? ""} onChange={(e) => set("project", e.target.value)}>
          <option value="">All projects</option>
          {projects.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <CheckGroup
        label="Status"
        values={listOf(search.status)}
        onChange={(v) => set("status", v)}
        options={statuses.map((s) => ({ value: s.key, label: s.name }))}
      />
      <CheckGroup
        label="Priority"
        values={listOf(search.priority)}
        onChange={(v) => set("priority", v)}
        options={PRIORITIES}
      />
      <CheckGroup
        label="SLA"
        values={listOf(search.sla_state)}
        onChange={(v) => set("sla_state", v)}
        options={SLA_STATES}
      />
      <TextFilter
        label="Assignee"
        hint="me, none or a username"
        value={search.assignee}
        onCommit={(v) => set("assignee", v)}
      />
      <TextFilter
        label="Requester"
        value={search.requester}
        onCommit={(v) => set("requester", v)}
      />
      <TextFilter label="Category" value={search.category} onCommit={(v) => set("category", v)} />
      <TextFilter label="Tags" value={search.tag} onCommit={(v) => set("tag", v)} />
      <TextFilter
        label="Created from"
        type="date"
        value={search.created_after}
        onCommit={(v) => set("created_after", v)}
      />
      <TextFilter
        label="Created before"
        type="date"
        value={search.created_before}
        onCommit={(v) => set("created_before", v)}
      />
      <label>
        Archived
        <select value={search.archived ?? ""} onChange={(e) => set("archived", e.target.value)}>
          <option value="">Not archived</option>
          <option value="true">Archived</option>
          <option value="all">All</option>
        </select>
      </label>
    </div>
  );
}

interface Option {
  value: string;
  label: string;
}

function CheckGroup(props: {
  label: string;
  values: string[];
  options: Option[];
  onChange(values: string[]): void;
}) {
  const { label, values, options } = props;
  const chosen = options.filter((o) => values.includes(o.value)).map((o) => o.label);
  const toggle = (value: string, on: boolean) =>
    props.onChange(on ? [...values, value] : values.filter((v) => v !== value));
  return (
    <details className="check-group">
      <summary>
        {label}: {chosen.length ? chosen.join(", ") : "any"}
      </summary>
      <fieldset>
        <legend className="visually-hidden">{label}</legend>
        {options.map((o) => (
          <label key={o.value} className="check">
            <input
              type="checkbox"
              checked={values.includes(o.value)}
              onChange={(e) => toggle(o.value, e.target.checked)}
            />
            {o.label}
          </label>
        ))}
      </fieldset>
    </details>
  );
}

function TextFilter(props: {
  label: string;
  value?: string;
  hint?: string;
  type?: string;
  onCommit(v: string): void;
}) {
  const { label, value = "", hint, type = "text" } = props;
  const commit = (text: string) => text.trim() !== value && props.onCommit(text);
  return (
    <label>
      {label}
      <input
        key={value}
        type={type}
        defaultValue={value}
        placeholder={hint}
        size={type === "text" ? (hint ? 18 : 10) : undefined}
        onBlur={(e) => commit(e.target.value)}
        onChange={(e) => type === "date" && commit(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && commit(e.currentTarget.value)}
      />
    </label>
  );
}
