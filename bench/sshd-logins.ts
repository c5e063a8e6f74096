// The lab's own count of SSH logins: "Accepted publickey" lines in every host's sshd log.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hostDir, type LabHost } from '../lab/paths';

export function sshdLogins(hosts: LabHost[]): number {
  return hosts.reduce((n, h) => {
    const log = path.join(hostDir(h.name), 'sshd.log');
    return n + (existsSync(log) ? (readFileSync(log, 'utf8').match(/Accepted publickey/g)?.length ?? 0) : 0);
  }, 0);
}
