// The API's records, as the views and the report read them.

export interface Alert {
  id: string;
  detector: string;
  timestamp: string;
  attack_type: string;
  severity: Severity;
  status: Status;
  src_ip?: string;
  dst_ip?: string;
  src_port?: number;
  dst_port?: number;
  protocol?: string;
  score: number;
  description: string;
  tags: string[];
  flow_id?: number;
  meta: Record<string, unknown>;
}

export type Severity = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export type Status = "NEW" | "ACKNOWLEDGED" | "SUPPRESSED" | "RESOLVED";
export const SEVERITIES: Severity[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
export const STATUSES: Status[] = ["NEW", "ACKNOWLEDGED", "SUPPRESSED", "RESOLVED"];

export interface GroupKey {
  detector: string;
  signature: string;
  src_ip: string | null;
  dst_ip: string | null;
}

export interface Group {
  key: GroupKey;
  signature_name: string;
  attack_type: string;
  count: number;
  first_seen: string;
  last_seen: string;
  max_severity: Severity;
  statuses: [number, number, number, number];
}
