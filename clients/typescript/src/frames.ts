// The WebSocket frames, named as the component schemas of openapi.yaml name
// them; every type here is the generated one.
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
export type AgentType = S["AgentType"];
export type Usage = S["Usage"];
export type StopReason = S["StopReason"];

/** Every message a client may send on the WebSocket. */
export type ClientMessage = S["ClientMessage"];
export type AuthenticateMessage = S["AuthenticateMessage"];
export type PingMessage = S["PingMessage"];
export type ListSessionsMessage = S["ListSessionsMessage"];
export type CreateSessionMessage = S["CreateSessionMessage"];
export type RenameSessionMessage = S["RenameSessionMessage"];
export type ArchiveSessionMessage = S["ArchiveSessionMessage"];
export type UnarchiveSessionMessage = S["UnarchiveSessionMessage"];
export type DeleteSessionMessage = S["DeleteSessionMessage"];
export type JoinSessionMessage = S["JoinSessionMessage"];
export type LeaveSessionMessage = S["LeaveSessionMessage"];
export type RunTurnMessage = S["RunTurnMessage"];
export type StopTurnMessage = S["StopTurnMessage"];
export type SteerMessage = S["SteerMessage"];
export type AnswerQuestionMessage = S["AnswerQuestionMessage"];
export type GetEventsMessage = S["GetEventsMessage"];
export type GetHistoryMessage = S["GetHistoryMessage"];
export type ListFilesMessage = S["ListFilesMessage"];
export type ReadFileMessage = S["ReadFileMessage"];
export type FileHistoryMessage = S["FileHistoryMessage"];
export type FileAtIterationMessage = S["FileAtIterationMessage"];
export type ManageMembersMessage = S["ManageMembersMessage"];
export type ListAgentTypesMessage = S["ListAgentTypesMessage"];

/** Every frame the gateway sends on the WebSocket. */
export type ServerEvent = S["ServerEvent"];
export type Welcome = S["Welcome"];
export type Connected = S["Connected"];
export type Authenticated = S["Authenticated"];
export type AuthExpiring = S["AuthExpiring"];
export type Heartbeat = S["Heartbeat"];
export type Pong = S["Pong"];
export type ErrorEvent = S["ErrorEvent"];
export type SessionListReply = S["SessionListReply"];
export type SessionCreatedReply = S["SessionCreatedReply"];
export type SessionUpdatedReply = S["SessionUpdatedReply"];
export type SessionDeletedReply = S["SessionDeletedReply"];
export type SessionLeftReply = S["SessionLeftReply"];
export type StateSnapshot = S["StateSnapshot"];
export type SessionStateEvent = S["SessionStateEvent"];
export type HistoryReply = S["HistoryReply"];
export type EventsReply = S["EventsReply"];
export type FileListReply = S["FileListReply"];
export type FileContentReply = S["FileContentReply"];
export type FileHistoryReply = S["FileHistoryReply"];
export type MemberListReply = S["MemberListReply"];
export type SteerAcceptedReply = S["SteerAcceptedReply"];
export type AgentTypesReply = S["AgentTypesReply"];

/** A sequenced event: part of a session's history, with `seq` and `ts`. */
export type SessionEvent = S["SessionEvent"];
export type UserMessageEvent = S["UserMessageEvent"];
export type TurnStartedEvent = S["TurnStartedEvent"];
export type TextDeltaEvent = S["TextDeltaEvent"];
export type TurnCompleteEvent = S["TurnCompleteEvent"];
export type TurnErrorEvent = S["TurnErrorEvent"];
export type ToolCallStartEvent = S["ToolCallStartEvent"];
export type ToolCallDeltaEvent = S["ToolCallDeltaEvent"];
export type ToolCallEvent = S["ToolCallEvent"];
export type ToolResultEvent = S["ToolResultEvent"];
export type ToolErrorEvent = S["ToolErrorEvent"];
export type QuestionRequestedEvent = S["QuestionRequestedEvent"];
export type PermissionRequestedEvent = S["PermissionRequestedEvent"];
export type ApprovalResolvedEvent = S["ApprovalResolvedEvent"];
export type SteerAppliedEvent = S["SteerAppliedEvent"];
export type ThinkingStartEvent = S["ThinkingStartEvent"];
export type ThinkingProgressEvent = S["ThinkingProgressEvent"];
export type ThinkingCompleteEvent = S["ThinkingCompleteEvent"];
export type TerminalStreamEvent = S["TerminalStreamEvent"];
export type TerminalCompleteEvent = S["TerminalCompleteEvent"];
export type SandboxProvisioningEvent = S["SandboxProvisioningEvent"];
export type SandboxInitEvent = S["SandboxInitEvent"];
export type SandboxRemovedEvent = S["SandboxRemovedEvent"];
export type PlanCreatedEvent = S["PlanCreatedEvent"];
export type PlanStepStartedEvent = S["PlanStepStartedEvent"];
export type PlanStepCompletedEvent = S["PlanStepCompletedEvent"];
export type PlanRevisedEvent = S["PlanRevisedEvent"];
export type UsageUpdatedEvent = S["UsageUpdatedEvent"];
export type AgentEventEvent = S["AgentEventEvent"];

/** The frames of the SSE stream (`GET /api/sessions/{id}/events/stream`). */
export type StreamEvent = S["StreamEvent"];
