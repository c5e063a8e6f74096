// Every failure type a run or an activity ends with, by name, and the one helper that makes a
// non-retryable failure. The strings are in recorded histories, in tests and in what operators
// search for: never change one. Workflow-safe (no Node imports): workflows and activities use it.
import { ApplicationFailure } from '@temporalio/common';

/** A failure that no retry can fix: the run (or the activity) fails at once with `type`. */
export const nonRetryable = (type: string, message: string, details?: unknown[]): ApplicationFailure =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details });

// --- The input and the inventory -----------------------------------------------------------------
export const INVALID_INPUT = 'InvalidInput';
/**
 * The run carries `TemporalScheduledById` (a start request may set it) but the schedule it names did
 * not start it: no such schedule, or this run is not among its actions.
 */
export const NOT_SCHEDULED = 'NotStartedBySchedule';
/** The inventory lacks what the runbook needs (a compose file, db settings, an approval policy, ...). */
export const INVENTORY_INCOMPLETE = 'InventoryIncomplete';
/** No cluster of that name in the worker's inventory. */
export const UNKNOWN_CLUSTER = 'UnknownCluster';
/** The cluster's spec changed since the run resolved it. */
export const INVENTORY_CHANGED = 'InventoryChanged';
export const UNKNOWN_HOST = 'UnknownHost';
export const SECRET_ERROR = 'SecretError';

// --- Gates, decisions and the cluster lock --------------------------------------------------------
export const APPROVAL_REJECTED = 'ApprovalRejected';
export const APPROVAL_TIMED_OUT = 'ApprovalTimedOut';
/** The policy has fewer eligible approvers than the gates need. */
export const APPROVAL_IMPOSSIBLE = 'ApprovalImpossible';
export const DECISION_REFUSED = 'DecisionRefused';
export const DUPLICATE_GATE = 'DuplicateGate';
export const VERIFICATION_CODE_TIMED_OUT = 'VerificationCodeTimedOut';
export const VERIFICATION_CODE_REFUSED = 'VerificationCodeRefused';
/** Another disruptive run holds the cluster's lock. */
export const CONCURRENT_RUN = 'ConcurrentRun';
/** The lock workflow's validator refused a request (a bug, not a hiccup). */
export const LOCK_REQUEST_REFUSED = 'LockRequestRefused';

// --- Trust: SSH host keys and TLS -----------------------------------------------------------------
export const HOST_KEY_MISMATCH = 'HostKeyMismatch';
export const HOST_KEY_MISSING = 'HostKeyMissing';
export const TLS_TRUST_ERROR = 'TlsTrustError';

// --- Hosts and containers -------------------------------------------------------------------------
export const PREFLIGHT_FAILED = 'PreflightFailed';
export const PRECHECK_FAILED = 'PrecheckFailed';
/** A prerequisite of the seed failed (database host, reachability, engine version, media modes). */
export const PREREQUISITE_FAILED = 'PrerequisiteFailed';
export const HOST_NEWER_THAN_TARGET = 'HostNewerThanTarget';
export const COMPOSE_FILE_MISSING = 'ComposeFileMissing';
export const COMPOSE_FILE_CHANGED = 'ComposeFileChanged';
export const DB_PASSWORD_REJECTED = 'DbPasswordRejected';
export const CONTAINERS_NOT_RUNNING = 'ContainersNotRunning';
export const CONTAINERS_LEFT = 'ContainersLeft';
/** A health gate's deadline passed (src/model/health-condition.ts). */
export const HEALTH_GATE_FAILED = 'HealthGateFailed';

// --- Runbook outcomes -----------------------------------------------------------------------------
export const BACKUP_FAILED = 'BackupFailed';
/** No stored settings backup of the cluster matches the run id or checksum asked for (or several do). */
export const BACKUP_NOT_FOUND = 'BackupNotFound';
/** A stored backup's sha256 is not the one recorded when it was taken (or asked for): never sent. */
export const BACKUP_CHECKSUM_MISMATCH = 'BackupChecksumMismatch';
/** POST /v1/settings/restore failed, or the cluster did not come back healthy after it. */
export const RESTORE_FAILED = 'RestoreFailed';
export const PLAN_UNSTABLE = 'PlanUnstable';
export const UPGRADE_FAILED = 'UpgradeFailed';
export const UPGRADE_ROLLED_BACK = 'UpgradeRolledBack';
/** A rollback put some hosts back but not every one (named in the message): the cluster is mixed. */
export const ROLLBACK_INCOMPLETE = 'RollbackIncomplete';
export const DB_UPGRADE_FAILED = 'DbUpgradeFailed';
export const DB_UPGRADE_TIMED_OUT = 'DbUpgradeTimedOut';
export const DB_UPGRADE_JOB_GONE = 'DbUpgradeJobGone';
export const MEDIA_CHOWN_FAILED = 'MediaChownFailed';
export const TAKEOVER_TIMED_OUT = 'TakeoverTimedOut';
export const DRILL_FAILED = 'DrillFailed';
export const DRILL_RESTORE_FAILED = 'DrillRestoreFailed';

// --- Answers of remote services, by code ----------------------------------------------------------
/** The WhatsApp Business API answered an error code (`WabaApiError1005`), or only an HTTP status. */
export const wabaApiErrorType = (code: number): string => `WabaApiError${code}`;
export const wabaApiHttpType = (status: number): string => `WabaApiHttp${status}`;
/** The chat webhook answered an HTTP error, or could not be reached (retryable). */
export const notifyHttpType = (status: number): string => `NotifyHttp${status}`;
export const NOTIFY_UNREACHABLE = 'NotifyUnreachable';

// Errors thrown inside one module's job keep their class there; activities/failures.ts turns those
// no retry can fix into the types above: SecretError (src/secrets.ts) into SECRET_ERROR, TlsTrustError
// (activities/tls.ts) into TLS_TRUST_ERROR, HostKeyError (activities/ssh.ts) into HOST_KEY_MISMATCH,
// WabaApiError by its code. Any other error an activity throws is retried, its class name as its
// type (SshConnectError, ChannelRefusedError, SshTimeoutError). The CLI's and ChatOps' own errors
// are in src/client/errors.ts.
