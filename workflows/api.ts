// The runbooks' message contract: every Query, Update and Signal their workflows handle, the search
// attributes they set, and the shapes a client reads back. Workflows and clients (CLI, ChatOps,
// bench, tests) both import it; clients call `handle.query(statusQuery)`, never a name.
// The names (the strings) are in recorded histories and in running clusters: never change one.
// Client-safe: `define*` only make names, and the rest is types (no workflow runtime is imported).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApproveArgs, CodeArgs, Decision, RefusedDecision, RejectArgs } from '../src/model/approvals';
import type {
  AcquireAnswer,
  AcquireRequest,
  LeaveAnswer,
  LockGrant,
  LockHolder,
  LockRun,
  LockWaiter,
  ReleaseAnswer,
  WaitingNotice,
} from '../src/model/cluster-lock';

// --- Search attributes ----------------------------------------------------------------------------

/** Custom search attributes (Keyword) registered on the dev server and required on production clusters. */
export const WabaCluster = defineSearchAttributeKey('WabaCluster', SearchAttributeType.KEYWORD);
export const WabaRunbook = defineSearchAttributeKey('WabaRunbook', SearchAttributeType.KEYWORD);
export const WabaStep = defineSearchAttributeKey('WabaStep', SearchAttributeType.KEYWORD);

/**
 * Set by the server on runs a Schedule started (the schedule's id), but not reserved: a start request
 * may set it too. Trusted only once the schedule confirms the run (workflows/lib/scheduled-start.ts).
 */
export const TemporalScheduledById = defineSearchAttributeKey(
  'TemporalScheduledById',
  SearchAttributeType.KEYWORD,
);

// --- Status: what a run is doing --------------------------------------------------------------------

export type GateState = 'open' | 'approved' | 'rejected';

/** An open gate, as the `status` query shows it. */
export interface PendingGate {
  gate: string;
  summary: string;
  openedAt: string;
  /** sha256 of the plan the gate shows: what a decision must be signed for. */
  plan: string;
  /** Who approved so far, in order. */
  approvals: string[];
  needed: number;
  /** Set when the gate opened again because the plan changed: what changed. */
  reopenedBecause?: string;
}

/** How the run was started: who asked, and whether the start request was signed by them. */
export interface Requester {
  name: string;
  authenticated: boolean;
}

/** What a run with approval gates adds to its status (workflows/lib/gated-run.ts). */
export interface GatedStatus {
  requestedBy: string;
  requester: Requester;
  pendingGates: PendingGate[];
  decisions: Decision[];
  refusedDecisions: RefusedDecision[];
  /** Who may decide, and the fingerprints of their keys: the CLI finds its signer's identity here. */
  approvers: Record<string, string[]>;
}

/** The answer of every run's `status` query; runs without gates have none of the gated parts. */
export interface RunStatus extends Partial<GatedStatus> {
  runbook: string;
  cluster: string;
  stage: string;
  stagesDone: string[];
  /** Per-host progress, e.g. `{ core1: 'up -d wacore' }`. */
  hosts: Record<string, string>;
  lastError: string | null;
  updatedAt: string;
  /** Where the cluster was resolved and the hashes of its spec and policy, once resolved. */
  inventory?: { source: string; specHash: string; policyHash?: string };
  /** What the operator should know but that does not stop the run, e.g. the topology lint's findings. */
  warnings?: string[];
  /** haSetup: while it waits for the registration verification code, and the plan hash a code is signed for. */
  awaitingCode?: boolean;
  codePlan?: string;
  /** Runbook-specific parts, e.g. upgrade's `fromVersion`, haDrill's `takeoverMs`. */
  [extra: string]: unknown;
}

/** The status of a run with approval gates. */
export type GatedRunStatus = RunStatus & GatedStatus;

export const statusQuery = defineQuery<RunStatus>('status');

// --- Plan: what a run will do -----------------------------------------------------------------------

/**
 * One step the run will take: where, and the exact remote command or API call when there is one.
 * Built from the input and the resolved cluster (and, once preflight has run, the compose each host has): deterministic.
 */
export interface PlanStep {
  stage: string;
  host?: string;
  command?: string;
  /** The WhatsApp Business API call, e.g. `POST /v1/account`. */
  api?: string;
  note?: string;
}

export const planQuery = defineQuery<PlanStep[]>('plan');

// --- Decisions: approvals and the verification code --------------------------------------------------

/** What the `approve` / `reject` Updates return to the person who sent them. */
export interface DecisionResult {
  gate: string;
  accepted: true;
  /** Distinct approvals this gate has now. */
  approvals: number;
  needed: number;
  state: GateState;
  /** The key that signed it (SHA256 fingerprint). */
  key: string;
}

// Updates (refused decisions never reach the history) and Signals (refused ones are listed in `status`).
export const approveUpdate = defineUpdate<DecisionResult, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<DecisionResult, [RejectArgs]>('reject');
export const approveSignal = defineSignal<[ApproveArgs]>('approve');
export const rejectSignal = defineSignal<[RejectArgs]>('reject');

export const verificationCodeUpdate = defineUpdate<{ accepted: true }, [CodeArgs]>('verificationCode');
export const verificationCodeSignal = defineSignal<[CodeArgs]>('verificationCode');

// --- The cluster lock (workflows/cluster-lock.ts) -----------------------------------------------------

/** Updates of the lock workflow (sent by activities: a workflow cannot update another one). */
export const acquireUpdate = defineUpdate<AcquireAnswer, [AcquireRequest]>('acquire');
export const leaveUpdate = defineUpdate<LeaveAnswer, [LockRun]>('leave');
export const releaseUpdate = defineUpdate<ReleaseAnswer, [LockRun]>('release');

export const holderQuery = defineQuery<LockHolder | null>('holder');
export const queueQuery = defineQuery<LockWaiter[]>('queue');
export const grantsQuery = defineQuery<LockGrant[]>('grants');

/** Signals the lock sends to a waiting run: the lock is yours; who holds it now and your place. */
export const grantedSignal = defineSignal<[LockHolder]>('clusterLockGranted');
export const waitingSignal = defineSignal<[WaitingNotice]>('clusterLockWaiting');
