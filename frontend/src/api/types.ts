// Shapes the app reads. Where the generated schema is exact they are aliases of it; the board and
// ticket shapes are written from ../shared/API.md until the schema describes them (issue 16, i16b).
import type { components } from "./schema";

export type Me = components["schemas"]["Me"];
export type Membership = components["schemas"]["Membership"];
export type Member = components["schemas"]["Member"];

export type Priority = "low" | "medium" | "high" | "critical";
export type SlaState = "on_track" | "near_breach" | "breached" | "paused" | "met" | "no_sla";

export interface Sla {
  policy: number | null;
  state: SlaState;
  first_response_due_at: string | null;
  resolution_due_at: string | null;
  paused: boolean;
  escalation_level: number;
  breached: boolean;
}

export interface Ticket {
  id: number;
  key: string;
  project: string;
  title: string;
  description?: string;
  status: string;
  status_name?: string;
  status_category?: string;
  rank: string;
  priority: Priority;
  category: string;
  assignee: string | null;
  is_archived?: boolean;
  sla?: Sla | null;
  first_response_at?: string | null;
  updated_at?: string;
}

export interface Status {
  key: string;
  name: string;
  category: string;
  color?: string;
}

export interface Column {
  id: number;
  name: string;
  order: number;
  statuses: Status[];
  min_limit: number | null;
  max_limit: number | null;
  enforce_wip: boolean;
  is_collapsed: boolean;
  ticket_count: number;
  is_over_limit: boolean;
  is_under_limit: boolean;
}

export interface BoardColumn extends Column {
  tickets: Ticket[];
  next: string | null;
}

export interface Project {
  key: string;
  name: string;
  description?: string;
}

export interface Board {
  project: Project;
  seq: number;
  columns: BoardColumn[];
}

export interface Page<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

export interface BoardEvent {
  type: string;
  seq: number;
  data: Record<string, unknown>;
  created_at?: string;
  actor?: Person | null;
  client_mutation_id?: string | null;
}

export interface Person {
  username: string;
  full_name: string;
}

export interface MoveBody {
  status: string;
  before_id: number | null;
  after_id: number | null;
  client_mutation_id: string;
}

/** A queue row: the list's ticket with the fields the table shows. */
export interface TicketRow extends Ticket {
  status_color?: string;
  requester: string | null;
  created_at: string;
  updated_at: string;
  first_response_at: string | null;
}

export interface BulkResult {
  id: number | string;
  ok: boolean;
  error: { code: string; message: string } | null;
}

export type BulkAction = "assign" | "set_status" | "set_priority" | "archive";

export interface SavedView {
  id: number;
  name: string;
  project: string | null;
  query: Record<string, unknown>;
  query_string: string;
  created_at: string;
  updated_at: string;
}

export type ExportStatus = "pending" | "running" | "succeeded" | "failed" | "expired";

export interface ExportJob {
  id: number;
  project: string;
  status: ExportStatus;
  format: "csv" | "jsonl";
  filters: Record<string, unknown>;
  rows_done: number;
  rows_total: number | null;
  file_size: number | null;
  download_url: string | null;
  expires_at: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface ExportProgress {
  type: "export.progress";
  id: number;
  rows_done: number;
  rows_total: number | null;
  status: ExportStatus;
}
