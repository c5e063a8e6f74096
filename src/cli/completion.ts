// Shell completion for bash and zsh. The scripts ask the CLI itself (`__complete`), which walks the
// same command definitions as the parser: commands, options, runbook names, and the ids of open runs
// and schedules (asked of the server, given at most 2 s).
import type { Command, Option } from 'commander';
import { InputError } from '../client/errors';
import { RUNBOOK_NAMES } from '../model/runbooks';
import { type Connected, type ConnectionFlags, connect } from './connect';

/** The shell should complete file names here. */
const FILES = '__files__';

const STATIC_VALUES: Record<string, readonly string[]> = {
  runbook: RUNBOOK_NAMES,
  name: [...RUNBOOK_NAMES, 'inventory'],
  shell: ['bash', 'zsh'],
  'workflow-id|runbook': RUNBOOK_NAMES,
};
const FILE_ARGUMENTS = new Set(['file']);
const FILE_OPTIONS = new Set(['--input', '--key', '--history', '--inventory']);

export interface Dynamic {
  workflowIds(): Promise<string[]>;
  scheduleIds(): Promise<string[]>;
}

/** Ids of open runs and schedules from the server, or none when it does not answer within 2 s. */
export function serverIds(flags: ConnectionFlags): Dynamic {
  const within = async (ask: (c: Connected) => Promise<string[]>): Promise<string[]> => {
    let c: Connected | undefined;
    const timer = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), 2_000).unref());
    try {
      return await Promise.race([
        (async () => {
          c = await connect(flags);
          return ask(c);
        })(),
        timer,
      ]);
    } catch {
      return [];
    } finally {
      void c?.close();
    }
  };
  const first = async <T>(items: AsyncIterable<T>, pick: (t: T) => string) => {
    const out: string[] = [];
    for await (const item of items) {
      out.push(pick(item));
      if (out.length >= 50) break;
    }
    return out;
  };
  return {
    workflowIds: () =>
      within((c) =>
        first(
          c.client.workflow.list({ query: "WabaRunbook IS NOT NULL AND ExecutionStatus = 'Running'" }),
          (w) => w.workflowId,
        ),
      ),
    scheduleIds: () => within((c) => first(c.client.schedule.list(), (s) => s.scheduleId)),
  };
}

const allOptions = (cmd: Command): readonly Option[] => {
  const own = [...cmd.options];
  for (let p = cmd.parent; p; p = p.parent) own.push(...p.options);
  return own;
};

/** Candidates for the last of `words` (what was typed after the program's name). */
export async function completeWords(program: Command, words: string[], dynamic: Dynamic): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  let cmd = program;
  let positional = 0;
  let expectsValue: Option | undefined;
  for (const word of words.slice(0, -1)) {
    if (expectsValue) {
      expectsValue = undefined;
      continue;
    }
    if (word.startsWith('-')) {
      const opt = allOptions(cmd).find((o) => o.long === word || o.short === word);
      if (opt && (opt.required || opt.optional) && !word.includes('=')) expectsValue = opt;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word);
    if (sub && positional === 0) cmd = sub;
    else positional++;
  }
  if (expectsValue) {
    if (expectsValue.argChoices) return expectsValue.argChoices.filter((c) => c.startsWith(current));
    return FILE_OPTIONS.has(expectsValue.long ?? '') ? [FILES] : [];
  }
  if (current.startsWith('-'))
    return allOptions(cmd)
      .filter((o) => !o.hidden)
      .flatMap((o) => [o.long, o.short])
      .filter((f): f is string => Boolean(f?.startsWith(current)));
  const subs = cmd.commands
    .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
    .map((c) => c.name());
  if (subs.length && positional === 0) return subs.filter((n) => n.startsWith(current));
  const arg = cmd.registeredArguments[positional]?.name();
  if (!arg) return [];
  if (FILE_ARGUMENTS.has(arg)) return [FILES];
  const values =
    STATIC_VALUES[arg] ??
    (arg === 'workflow-id'
      ? await dynamic.workflowIds()
      : arg === 'schedule-id'
        ? await dynamic.scheduleIds()
        : []);
  const extra = arg === 'workflow-id|runbook' ? await dynamic.workflowIds() : [];
  return [...values, ...extra].filter((v) => v.startsWith(current));
}

const BASH = `# bash completion for waba-runbooks: source <(waba-runbooks completion bash)
_waba_runbooks() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
  local candidates
  candidates=($(waba-runbooks __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  if [ "\${candidates[0]}" = "${FILES}" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=("\${candidates[@]}")
  fi
}
complete -o filenames -F _waba_runbooks waba-runbooks
`;

const ZSH = `#compdef waba-runbooks
# zsh completion for waba-runbooks: waba-runbooks completion zsh > "\${fpath[1]}/_waba-runbooks"
_waba_runbooks() {
  local -a candidates
  candidates=("\${(@f)$(waba-runbooks __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${candidates[1]}" == "${FILES}" ]]; then
    _files
  else
    compadd -- "\${candidates[@]}"
  fi
}
compdef _waba_runbooks waba-runbooks
`;

export function completionScript(_program: Command, shell: string): string {
  if (shell === 'bash') return BASH;
  if (shell === 'zsh') return ZSH;
  throw new InputError(`completion for which shell? bash or zsh, got "${shell}"`);
}
