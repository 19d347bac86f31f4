// The WebSocket frames, one type per frame, named as the component schemas of
// openapi.yaml name them. Written by hand until the schemas declare every
// frame; the REST shapes they embed already come from the generated file.
import type { components } from "./generated/schema.js";

type S = components["schemas"];

export type Identity = S["Identity"];
export type SessionMeta = S["SessionMeta"];
export type SessionState = S["SessionState"];
export type ErrorCode = S["ErrorCode"];
export type Role = S["Role"];
export type Turn = S["Turn"];
export type FileEntry = S["FileEntry"];
export type FileIteration = S["FileIteration"];
export type Member = S["Member"];

/** An agent type the gateway can run (`list_agent_types`, `GET /api/agent-types`). */
export interface AgentType {
  id: string;
  name: string;
  description: string;
}

// ---- client -> server ----

interface Req {
  requestId?: string;
}
interface SessionReq extends Req {
  sessionId: string;
}

export interface AuthenticateMessage extends Req {
  type: "authenticate";
  token: string;
}
export interface PingMessage extends Req {
  type: "ping";
  ts?: number;
}
export interface ListSessionsMessage extends Req {
  type: "list_sessions";
  includeArchived?: boolean;
}
export interface CreateSessionMessage extends Req {
  type: "create_session";
  agentType: string;
  name?: string;
  projectId?: string;
}
export interface RenameSessionMessage extends SessionReq {
  type: "rename_session";
  name: string;
}
export interface ArchiveSessionMessage extends SessionReq {
  type: "archive_session";
}
export interface UnarchiveSessionMessage extends SessionReq {
  type: "unarchive_session";
}
export interface DeleteSessionMessage extends SessionReq {
  type: "delete_session";
}
export interface JoinSessionMessage extends SessionReq {
  type: "join_session";
  afterSeq?: number;
  epoch?: string;
}
export interface LeaveSessionMessage extends SessionReq {
  type: "leave_session";
}
export interface RunTurnMessage extends SessionReq {
  type: "run_turn";
  text: string;
  clientTurnId?: string;
}
export interface StopTurnMessage extends SessionReq {
  type: "stop_turn";
}
export interface SteerMessage extends SessionReq {
  type: "steer";
  text: string;
}
export interface AnswerQuestionMessage extends SessionReq {
  type: "answer_question";
  promptId: string;
  approved?: boolean;
  answers?: Record<string, unknown>;
  dismissed?: boolean;
}
export interface GetEventsMessage extends SessionReq {
  type: "get_events";
  afterSeq: number;
  limit?: number;
}
export interface GetHistoryMessage extends SessionReq {
  type: "get_history";
  beforeTurnId?: string;
  limit?: number;
}
export interface ListFilesMessage extends SessionReq {
  type: "list_files";
  path?: string;
  depth?: number;
}
export interface ReadFileMessage extends SessionReq {
  type: "read_file";
  path: string;
}
export interface FileHistoryMessage extends SessionReq {
  type: "file_history";
  path: string;
}
export interface FileAtIterationMessage extends SessionReq {
  type: "file_at_iteration";
  path: string;
  iteration: number;
}
export interface ManageMembersMessage extends Req {
  type: "manage_members";
  action: "list" | "add" | "update" | "remove";
  userId?: string;
  email?: string;
  role?: Role;
}
export interface ListAgentTypesMessage extends Req {
  type: "list_agent_types";
}

export type ClientMessage =
  | AuthenticateMessage
  | PingMessage
  | ListSessionsMessage
  | CreateSessionMessage
  | RenameSessionMessage
  | ArchiveSessionMessage
  | UnarchiveSessionMessage
  | DeleteSessionMessage
  | JoinSessionMessage
  | LeaveSessionMessage
  | RunTurnMessage
  | StopTurnMessage
  | SteerMessage
  | AnswerQuestionMessage
  | GetEventsMessage
  | GetHistoryMessage
  | ListFilesMessage
  | ReadFileMessage
  | FileHistoryMessage
  | FileAtIterationMessage
  | ManageMembersMessage
  | ListAgentTypesMessage;

// ---- server -> client: connection ----

export interface Welcome {
  type: "welcome";
  protocolVersion: number;
  requiresAuth: boolean;
  serverVersion: string;
}
export interface Connected {
  type: "connected";
  clientId: string;
  heartbeatIntervalMs: number;
  ts: number;
}
export interface Authenticated {
  type: "authenticated";
  identity: Identity;
  requestId?: string;
}
export interface AuthExpiring {
  type: "auth_expiring";
  expiresAt: number;
}
export interface Heartbeat {
  type: "heartbeat";
  ts: number;
}
export interface Pong {
  type: "pong";
  ts: number;
  serverTs: number;
  requestId?: string;
}
export interface ErrorEvent {
  type: "error";
  code: ErrorCode;
  message: string;
  requestId?: string;
  retryAfterMs?: number;
  sessionId?: string;
}

// ---- server -> client: direct replies ----

interface Reply {
  requestId?: string;
}
export interface SessionListReply extends Reply {
  type: "session_list";
  sessions: SessionMeta[];
}
export interface SessionCreatedReply extends Reply {
  type: "session_created";
  session: SessionMeta;
}
export interface SessionUpdatedReply extends Reply {
  type: "session_updated";
  session: SessionMeta;
}
export interface SessionDeletedReply extends Reply {
  type: "session_deleted";
  sessionId: string;
}
export interface SessionLeftReply extends Reply {
  type: "session_left";
  sessionId: string;
}
export interface StateSnapshot extends Reply {
  type: "state_snapshot";
  sessionId: string;
  session: SessionMeta;
  state: SessionState;
  epoch: string;
  latestSeq: number;
  pendingPrompts: SessionEvent[];
  replayComplete: boolean;
}
export interface SessionStateEvent {
  type: "session_state";
  sessionId: string;
  state: SessionState;
  previousState: SessionState;
  reason?: string;
}
export interface HistoryReply extends Reply {
  type: "history";
  sessionId: string;
  turns: Turn[];
  hasMore: boolean;
}
export interface EventsReply extends Reply {
  type: "events";
  sessionId: string;
  epoch: string;
  events: SessionEvent[];
  latestSeq: number;
  hasMore: boolean;
}
export interface FileListReply extends Reply {
  type: "file_list";
  sessionId: string;
  path: string;
  entries: FileEntry[];
}
export interface FileContentReply extends Reply {
  type: "file_content";
  sessionId: string;
  path: string;
  content: string;
  encoding: "utf-8" | "base64";
  size: number;
  hash: string;
  iteration: number;
}
export interface FileHistoryReply extends Reply {
  type: "file_history";
  sessionId: string;
  path: string;
  iterations: FileIteration[];
}
export interface MemberListReply extends Reply {
  type: "member_list";
  members: Member[];
}
export interface SteerAcceptedReply extends Reply {
  type: "steer_accepted";
  sessionId: string;
  turnId: string;
}
export interface AgentTypesReply extends Reply {
  type: "agent_types";
  agentTypes: AgentType[];
}

// ---- server -> client: sequenced session events ----

interface Seq {
  sessionId: string;
  seq: number;
  ts: number;
  turnId?: string;
}
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}
export interface UserMessageEvent extends Seq {
  type: "user_message";
  text: string;
  clientTurnId?: string;
}
export interface TurnStartedEvent extends Seq {
  type: "turn_started";
}
export interface TextDeltaEvent extends Seq {
  type: "text_delta";
  text: string;
}
export interface TurnCompleteEvent extends Seq {
  type: "turn_complete";
  finalText: string;
  stopReason: "end_turn" | "cancelled" | "max_tokens" | "error";
  usage: Usage;
}
export interface TurnErrorEvent extends Seq {
  type: "turn_error";
  code: string;
  message: string;
}
export interface ToolCallStartEvent extends Seq {
  type: "tool_call_start";
  toolCallId: string;
  toolName: string;
}
export interface ToolCallDeltaEvent extends Seq {
  type: "tool_call_delta";
  toolCallId: string;
  delta: string;
}
export interface ToolCallEvent extends Seq {
  type: "tool_call";
  toolCallId: string;
  toolName: string;
  input: unknown;
}
export interface ToolResultEvent extends Seq {
  type: "tool_result";
  toolCallId: string;
  output: string;
  isError: boolean;
}
export interface ToolErrorEvent extends Seq {
  type: "tool_error";
  toolCallId: string;
  message: string;
}
export interface QuestionRequestedEvent extends Seq {
  type: "question_requested";
  promptId: string;
  questions: unknown;
}
export interface PermissionRequestedEvent extends Seq {
  type: "permission_requested";
  promptId: string;
  toolName: string;
  description: string;
}
export interface ApprovalResolvedEvent extends Seq {
  type: "approval_resolved";
  promptId: string;
  approved?: boolean;
  answers?: Record<string, unknown>;
  dismissed?: boolean;
}
export interface SteerAppliedEvent extends Seq {
  type: "steer_applied";
  text: string;
}
export interface ThinkingStartEvent extends Seq {
  type: "thinking.start";
}
export interface ThinkingProgressEvent extends Seq {
  type: "thinking.progress";
  text: string;
}
export interface ThinkingCompleteEvent extends Seq {
  type: "thinking.complete";
}
export interface TerminalStreamEvent extends Seq {
  type: "terminal.stream";
  data: string;
}
export interface TerminalCompleteEvent extends Seq {
  type: "terminal.complete";
  exitCode: number;
}
/** Sandbox and plan events carry the upstream payload with camelCased keys. */
interface Passthrough extends Seq {
  [field: string]: unknown;
}
export interface SandboxProvisioningEvent extends Passthrough {
  type: "sandbox.provisioning";
}
export interface SandboxInitEvent extends Passthrough {
  type: "sandbox.init";
}
export interface SandboxRemovedEvent extends Passthrough {
  type: "sandbox.removed";
}
export interface PlanCreatedEvent extends Passthrough {
  type: "plan.created";
}
export interface PlanStepStartedEvent extends Passthrough {
  type: "plan.step_started";
}
export interface PlanStepCompletedEvent extends Passthrough {
  type: "plan.step_completed";
}
export interface PlanRevisedEvent extends Passthrough {
  type: "plan.revised";
}
export interface UsageUpdatedEvent extends Seq {
  type: "usage.updated";
  inputTokens: number;
  outputTokens: number;
}
export interface AgentEventEvent extends Seq {
  type: "agent_event";
  upstreamType: string;
  content: unknown;
}

/** A sequenced event: part of a session's history, with `seq` and `ts`. */
export type SessionEvent =
  | UserMessageEvent
  | TurnStartedEvent
  | TextDeltaEvent
  | TurnCompleteEvent
  | TurnErrorEvent
  | ToolCallStartEvent
  | ToolCallDeltaEvent
  | ToolCallEvent
  | ToolResultEvent
  | ToolErrorEvent
  | QuestionRequestedEvent
  | PermissionRequestedEvent
  | ApprovalResolvedEvent
  | SteerAppliedEvent
  | ThinkingStartEvent
  | ThinkingProgressEvent
  | ThinkingCompleteEvent
  | TerminalStreamEvent
  | TerminalCompleteEvent
  | SandboxProvisioningEvent
  | SandboxInitEvent
  | SandboxRemovedEvent
  | PlanCreatedEvent
  | PlanStepStartedEvent
  | PlanStepCompletedEvent
  | PlanRevisedEvent
  | UsageUpdatedEvent
  | AgentEventEvent;

/** Every frame the gateway sends on the WebSocket. */
export type ServerEvent =
  | Welcome
  | Connected
  | Authenticated
  | AuthExpiring
  | Heartbeat
  | Pong
  | ErrorEvent
  | SessionListReply
  | SessionCreatedReply
  | SessionUpdatedReply
  | SessionDeletedReply
  | SessionLeftReply
  | StateSnapshot
  | SessionStateEvent
  | HistoryReply
  | EventsReply
  | FileListReply
  | FileContentReply
  | FileHistoryReply
  | MemberListReply
  | SteerAcceptedReply
  | AgentTypesReply
  | SessionEvent;
