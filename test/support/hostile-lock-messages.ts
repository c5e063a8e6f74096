// A generated corpus of hostile cluster-lock messages (TRUST.md rules 4 and 9): every field of a
// genuine message replaced in turn by a wrong type, control/bidi/invisible characters, a long
// string, an unknown runbook, null; the whole payload replaced; unknown keys added. None of them is
// a valid message: the lock must refuse each one, a run must ignore each one.

/** Values that are never a valid id, run id, runbook, time or flag (a wrong type or unsafe text). */
const NEVER_VALID: unknown[] = [
  null,
  0,
  -1,
  1.5,
  {},
  [],
  ['x'],
  { $ref: 'x' },
  '',
  ' ',
  ' padded',
  'padded ',
  '\u0000',
  'nul\u0000inside',
  '\u001b[31mred\u001b[0m',
  '\u001b]0;title\u0007',
  'bell\u0007',
  'line\nbreak',
  'cr\rreturn',
  'tab\tinside',
  'del\u007f',
  'c1\u0085next',
  'csi\u009b2J',
  '\u202eevil',
  'rlo\u202eexe.txt',
  'isolate\u2066x\u2069',
  'zero\u200bwidth',
  'bom\ufeff',
  'line\u2028sep',
  'x'.repeat(1001),
  `${'long'.repeat(2500)}\u001b[2J`,
];

/** Values wrong for one field only (a valid workflow id can be any plain text, `wait` is true). */
const FIELD_EXTRAS: Record<string, unknown[]> = {
  workflowId: [true],
  runbook: [true, 'unknownRunbook', 'healthCheck', 'UNINSTALL', 'uninstall\u0000'],
  runId: [true, '01a2374e-cd35-7e3e-8e59-dd9cce44659', '01a2374e-cd35-7e3e-8e59-dd9cce446592x', 'not-a-uuid'],
  firstRunId: [true, '01a2374e-cd35-7e3e-8e59-dd9cce44659', 'g1a2374e-cd35-7e3e-8e59-dd9cce446592'],
  since: [true, '2026-01-01', '2026-01-01T00:00:00Z\u001b[2J', 'yesterday'],
  wait: ['true', 1, 'yes'],
};

/** A payload wrong as a whole. */
const WHOLE: unknown[] = [null, 0, 'acquire', true, [], [null], { '\u001b[2J': 1 }];

/** Every field of `base` set to every never-valid value, the field dropped, unknown keys added. */
export function hostileVariants(base: Record<string, unknown>, values = NEVER_VALID): unknown[] {
  const out: unknown[] = [...WHOLE];
  for (const key of Object.keys(base)) {
    for (const value of [...values, ...(FIELD_EXTRAS[key] ?? [])]) out.push({ ...base, [key]: value });
    const { [key]: _dropped, ...rest } = base;
    out.push(rest);
  }
  for (const extra of ['extra', 'holder\u001b[31m', 'x'.repeat(300), '__proto__x'])
    out.push({ ...base, [extra]: 'value' });
  return out;
}

/** Hostile waiting notices: a hostile holder, or a good holder at an impossible position. */
export function hostileNotices(holder: Record<string, unknown>): unknown[] {
  const positions = [0, -1, 1.5, 101, 1e12, '1', null, true, Number.MAX_SAFE_INTEGER];
  return [
    ...WHOLE,
    ...hostileVariants(holder).map((h) => ({ holder: h, position: 1 })),
    ...positions.map((position) => ({ holder, position })),
    { holder, position: 1, extra: 'x' },
    { holder },
    { position: 1 },
  ];
}

/** Control, bidi and invisible characters that must never reach status, errors or search attributes. */
export const UNSAFE_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
  /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029\ufeff]/;
