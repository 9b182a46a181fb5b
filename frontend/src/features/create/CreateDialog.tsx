// "New ticket" from anywhere: the fields of POST tickets/, triage chips when the description loses
// focus (Apply / Dismiss, sent with the create), field errors next to each field, then the ticket.
import { useState, type FormEvent } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { meQuery } from "../../api/session";
import { assigneesQuery, createTicket, projectQuery } from "../../api/ticket";
import { classify } from "../../api/triage";
import { fieldErrors } from "../../api/fieldErrors";
import { messageOf } from "../../api/errors";
import type { Priority } from "../../api/types";
import { showToast } from "../../ui/toast";
import { FormField } from "./FormField";
import { TriageChips } from "./TriageChips";
import { suggested, triageBody, type Field, type Triage } from "./triageState";
import "../ticket/ticket.css";

const PRIORITIES: Priority[] = ["low", "medium", "high", "critical"];
const EMPTY = { title: "", description: "", priority: "", category: "", tags: "", assignee: "" };
const MORE = { requester: "", linked_type: "", linked_id: "" };

export function CreateDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange(o: boolean): void;
}) {
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="drawer-overlay" />
        <Dialog.Content className="modal create-modal" aria-describedby={undefined}>
          <Dialog.Title className="drawer-title">New ticket</Dialog.Title>
          <Dialog.Close className="icon-button drawer-close" aria-label="Close">
            ×
          </Dialog.Close>
          {open && <CreateForm onDone={() => onOpenChange(false)} />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function CreateForm({ onDone }: { onDone: () => void }) {
  const navigate = useNavigate();
  const { data: me } = useQuery(meQuery);
  const projects = (me?.memberships ?? []).filter((m) => m.role !== "customer");
  const [project, setProject] = useState(projects[0]?.project ?? "");
  const [form, setForm] = useState({ ...EMPTY, ...MORE });
  const [triage, setTriage] = useState<Triage | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const detail = useQuery({ ...projectQuery(project), enabled: project !== "" });
  const people = useQuery({ ...assigneesQuery(project), enabled: project !== "" });
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [name]: e.target.value }));

  async function suggest() {
    if (!project || (!form.title.trim() && !form.description.trim())) return;
    try {
      const suggestion = await classify(project, form.title, form.description);
      setTriage((t) => ({ suggestion, decisions: t?.decisions ?? {} }));
    } catch (error) {
      showToast(`No suggestions: ${messageOf(error)}`, "error");
    }
  }
  function decide(field: Field, decision: "applied" | "dismissed") {
    if (!triage) return;
    if (decision === "applied")
      setForm((f) => ({ ...f, [field]: suggested(triage.suggestion, field) }));
    setTriage({ ...triage, decisions: { ...triage.decisions, [field]: decision } });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    const tags = form.tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    try {
      const ticket = await createTicket({
        project,
        title: form.title,
        description: form.description,
        ...(form.priority && { priority: form.priority as Priority }),
        ...(form.category && { category: form.category }),
        ...(tags.length && { tags }),
        ...(form.assignee && { assignee: form.assignee }),
        ...(form.requester && { requester: form.requester }),
        ...(form.linked_type && { linked_type: form.linked_type, linked_id: form.linked_id }),
        triage: triageBody(triage, { category: form.category, priority: form.priority }),
      });
      showToast(`${ticket.key} created.`);
      onDone();
      await navigate({ to: "/tickets/$ticketKey", params: { ticketKey: ticket.key } });
    } catch (error) {
      const fields = fieldErrors(error);
      setErrors(fields);
      if (Object.keys(fields).length === 0 || fields.non_field_errors) setFailure(messageOf(error));
    } finally {
      setBusy(false);
    }
  }

  const categories = [
    ...new Set([...(detail.data?.categories ?? []), form.category].filter(Boolean)),
  ];
  return (
    <form className="drawer-form create-form" onSubmit={(e) => void submit(e)} noValidate>
      <FormField id="new-project" label="Project" error={errors.project}>
        <select value={project} onChange={(e) => setProject(e.target.value)}>
          {projects.map((m) => (
            <option key={m.project} value={m.project}>
              {m.project_name} ({m.project})
            </option>
          ))}
        </select>
      </FormField>
      <FormField id="new-title" label="Title" error={errors.title}>
        <input value={form.title} onChange={set("title")} maxLength={300} />
      </FormField>
      <FormField id="new-description" label="Description" error={errors.description}>
        <textarea
          rows={5}
          value={form.description}
          onChange={set("description")}
          onBlur={() => void suggest()}
        />
      </FormField>
      {triage && (
        <TriageChips
          triage={triage}
          onApply={(f) => decide(f, "applied")}
          onDismiss={(f) => decide(f, "dismissed")}
        />
      )}
      <div className="field-row">
        <FormField id="new-priority" label="Priority" error={errors.priority}>
          <select value={form.priority} onChange={set("priority")}>
            <option value="">Project default</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </FormField>
        <FormField id="new-category" label="Category" error={errors.category}>
          <select value={form.category} onChange={set("category")}>
            <option value="">Project default</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </FormField>
      </div>
      <FormField id="new-tags" label="Tags (comma separated)" error={errors.tags}>
        <input value={form.tags} onChange={set("tags")} />
      </FormField>
      <FormField id="new-assignee" label="Assignee" error={errors.assignee}>
        <select value={form.assignee} onChange={set("assignee")}>
          <option value="">Unassigned</option>
          {(people.data ?? []).map((p) => (
            <option key={p.username} value={p.username}>
              {p.full_name || p.username} ({p.open_tickets} open)
            </option>
          ))}
        </select>
      </FormField>
      <FormField id="new-requester" label="Requester (username)" error={errors.requester}>
        <input value={form.requester} onChange={set("requester")} autoComplete="off" />
      </FormField>
      <div className="field-row">
        <FormField id="new-linked-type" label="Linked entity type" error={errors.linked_type}>
          <input value={form.linked_type} onChange={set("linked_type")} placeholder="order" />
        </FormField>
        <FormField id="new-linked-id" label="Linked entity id" error={errors.linked_id}>
          <input value={form.linked_id} onChange={set("linked_id")} placeholder="1182" />
        </FormField>
      </div>
      {failure && (
        <p role="alert" className="form-error">
          {failure}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy || !project}>
          Create ticket
        </button>
        <Dialog.Close asChild>
          <button type="button">Cancel</button>
        </Dialog.Close>
      </div>
    </form>
  );
}
