// Shapes of the ticket page and the create dialog (../shared/API.md, docs/ui-api-map.md), kept next
// to api/types.ts until the generated schema describes these bodies exactly.
import type { Priority, Sla } from "./types";

export interface TicketDetail {
  id: number;
  key: string;
  project: string;
  number: number;
  title: string;
  description: string;
  status: string;
  status_name: string;
  status_category: "todo" | "in_progress" | "done" | string;
  status_color?: string;
  rank: string;
  priority: Priority;
  category: string;
  tags: string[];
  assignee: string | null;
  requester: string | null;
  created_by: string | null;
  linked_type: string;
  linked_id: string;
  is_sensitive: boolean;
  is_archived: boolean;
  resolution_summary: string;
  sla: Sla | null;
  classification: {
    category?: string;
    priority?: string;
    confidence?: number;
    source?: string;
  } | null;
  reopened_count: number;
  created_at: string;
  updated_at: string;
  first_response_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
}

export interface Message {
  id: number;
  author: string | null;
  body: string;
  internal: boolean;
  created_at: string;
}

export interface AuditRow {
  id: number;
  action: string;
  actor: string | null;
  payload: { old?: Record<string, unknown>; new?: Record<string, unknown> } & Record<
    string,
    unknown
  >;
  ip_address: string | null;
  created_at: string;
}

export interface Attachment {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string | null;
  created_at: string;
  download_url: string;
}

export interface Assignee {
  username: string;
  full_name: string;
  role: string;
  open_tickets: number;
}

export interface WatchState {
  watching: boolean;
  notify_in_app: boolean;
  notify_email: boolean;
}

export interface Watcher {
  username: string;
  notify_in_app: boolean;
  notify_email: boolean;
  created_at: string;
}

export interface SlaEvent {
  id: number;
  type: string;
  metric: string | null;
  cycle: number | null;
  level: number | null;
  at: string;
  reason: string;
  actor: string | null;
}

export interface SlaTimeline {
  ticket: number;
  key: string;
  events: SlaEvent[];
}

export interface ProjectDetail {
  key: string;
  name: string;
  categories: string[];
  workflow: Record<string, string[]>;
  default_priority?: Priority;
}

export interface WorkflowStatus {
  key: string;
  name: string;
  category: string;
  color?: string;
}

export interface Classification {
  suggested_category: string;
  suggested_priority: Priority;
  confidence: number;
  source: string;
  model_version: string;
}

export type Decision = "applied" | "dismissed";

export interface NewTicket {
  project: string;
  title: string;
  description: string;
  priority?: Priority;
  category?: string;
  tags?: string[];
  assignee?: string | null;
  requester?: string | null;
  linked_type?: string;
  linked_id?: string;
  triage?: Classification & { decisions: Partial<Record<"category" | "priority", Decision>> };
}
