// Guard: activities call the command builders of src/model and hold no command text of their own.
// String and template literals in activities/ are checked (comments are not), with patterns that
// match command lines, not the log and error messages that name a tool.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const COMMAND_TEXT: RegExp[] = [
  /\bdocker(-compose| compose)? +(ps|inspect|wait|logs|exec|rm|run|version|up|down|stop|start|kill)\b/,
  /\bmkdir +-/,
  /\bsha256sum\b/,
  /\bchown +(-\w+ +)*(root|\$|⟨)/,
  /\bfind +(\/|\$|⟨|\.)/,
  /\bstat +-c\b/,
  /\btest +-[a-z]\b/,
  /\brm +-[a-z]*f/,
  /\bmv +-f\b/,
  /\binstall +-m\b/,
  /\bmktemp +-/,
  /\bsudo +-n\b/,
  /\bcd +(\/|⟨)/,
  /\bp?kill +(-|\$|\w+;)/,
  /\b(tail|head) +-[cn]\b/,
  /\bcut +-d/,
  /\bwc +-l\b/,
  /2>&1|2>\/dev\/null|>\/dev\/null|\$\(|\|\| *exit\b|\bthen\b.*\bfi\b/,
];

/** The literal text of every string and template literal in a source file (`⟨⟩` for a hole). */
function literals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node))
      out.push(node.head.text + node.templateSpans.map((s) => `⟨⟩${s.literal.text}`).join(''));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const looksLikeCommand = (text: string) => COMMAND_TEXT.some((re) => re.test(text));

describe('activities hold no command text', () => {
  const dir = path.join(__dirname, '../../activities');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it.each(files)('%s', (file) => {
    expect(literals(path.join(dir, file)).filter(looksLikeCommand)).toEqual([]);
  });

  it('the patterns catch the command lines once written here, not messages naming a tool', () => {
    const commands = [
      "docker version --format '{{.Server.Version}}'",
      "stat -c '%a %n' ⟨⟩ ⟨⟩/*/ 2>/dev/null",
      'mkdir -p ⟨⟩',
      "sha256sum ⟨⟩ 2>/dev/null | cut -d' ' -f1",
      'docker ps -aq --filter label=com.docker.compose.service=dbupgrade',
      'docker rm -f ⟨⟩',
      'docker wait ⟨⟩',
      'docker logs --tail 20 ⟨⟩ 2>&1',
      'echo $$ > /tmp/waba-chown.pid; rm -f /tmp/waba-chown.exit; find ⟨⟩ ! -user root -exec chown root {} + ; echo $? > /tmp/waba-chown.exit',
      'find ⟨⟩ | wc -l',
      'test -f ⟨⟩',
      '⟨⟩ 2>&1 | tail -c ⟨⟩',
      "set -e; sum=$(sha256sum ⟨⟩ | cut -d' ' -f1); mv -f ⟨⟩ ⟨⟩",
      'kill $(cat /tmp/waba-chown.pid) 2>/dev/null; pkill find; pkill chown; true',
      'ids=$(⟨⟩) || exit $?',
      'mktemp -t waba-upload.XXXXXXXX',
    ];
    expect(commands.filter((c) => !looksLikeCommand(c))).toEqual([]);
    const messages = [
      'docker does not answer on ⟨⟩: ⟨⟩',
      'neither docker-compose nor docker compose is installed on ⟨⟩',
      'media chown start',
      'dbupgrade rm',
      'inspecting the job on ⟨⟩ exited ⟨⟩: ⟨⟩',
      'waiting for the job',
      'upload to ⟨⟩:⟨⟩: ⟨⟩ cannot write ⟨⟩ (⟨⟩)',
      'media mount on ⟨⟩ must be mode 755: ⟨⟩',
      'upload to ⟨⟩: mktemp as ⟨⟩ failed: ⟨⟩',
    ];
    expect(messages.filter(looksLikeCommand)).toEqual([]);
  });
});
