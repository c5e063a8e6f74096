// scripts/lab: bring the simulated cluster up and down, inject faults, read evidence.

import { applyLabSettings, type Engine, resetDatabase, withLabDb } from './database';
import { cutHost, healHost, inHost, startHost, stopHost } from './hosts';
import { buildRootfs, loadImages } from './image';
import { down, findHost, hostStatus, labState, seedMedia, up } from './lab';
import { getKv, readStats, setKv } from './sim/db';

const USAGE = `usage: scripts/lab <command>
  up [--engine MYSQL|PGSQL] [--webs N] [--masters N] [--cores N] [--spares N] [--unhealthy-interval S]
  down                          remove everything up made
  status                        hosts and their daemons
  images                        rebuild and load the simulator images into every host
  sms-code [--engine E]         the verification code the simulator "sent by SMS"
  stats [--engine E]            counters of side-effecting API calls and dbupgrade runs (JSON)
  fault NAME on|off [--engine E]  dbupgrade_fail | shards_403_once | register_blocked
  reset-db [--engine E]         forget the simulated cluster's state (registration, nodes, stats)
  stop-host|start-host|cut-host|heal-host NAME
  seed-media HOST COUNT         COUNT media files per folder, owned by a non-root user
  exec HOST -- CMD...           run a command as root on a lab host`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function engineOf(args: string[]): Engine {
  const e = option(args, '--engine') ?? labState().engine;
  if (e !== 'MYSQL' && e !== 'PGSQL') throw new Error(`--engine must be MYSQL or PGSQL, not ${e}`);
  return e;
}

function intOption(args: string[], name: string): number | undefined {
  const v = option(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not ${v}`);
  return n;
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  const started = Date.now();
  switch (command) {
    case 'up': {
      const engine = option(rest, '--engine');
      if (engine !== undefined && engine !== 'MYSQL' && engine !== 'PGSQL')
        throw new Error('--engine must be MYSQL or PGSQL');
      await up({
        engine,
        webs: intOption(rest, '--webs'),
        masters: intOption(rest, '--masters'),
        cores: intOption(rest, '--cores'),
        spares: intOption(rest, '--spares'),
        unhealthyInterval: intOption(rest, '--unhealthy-interval'),
      });
      console.log(
        `lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: .lab/cluster.json, .lab/spare-hosts.json`,
      );
      return;
    }
    case 'down':
      return down();
    case 'status':
      console.log(JSON.stringify(hostStatus(), null, 2));
      return;
    case 'images': {
      const stamp = await buildRootfs();
      await Promise.all(
        labState().hosts.map((h) => loadImages((a) => inHost(h.name, ['docker', ...a]), stamp)),
      );
      console.log(`images ${stamp} loaded on every host`);
      return;
    }
    case 'sms-code': {
      const code = await withLabDb(engineOf(rest), (db) => getKv(db, 'sms_code'));
      if (!code) throw new Error('no verification code is pending (POST /v1/account has not answered 202)');
      console.log(code);
      return;
    }
    case 'stats':
      console.log(JSON.stringify(await withLabDb(engineOf(rest), readStats)));
      return;
    case 'fault': {
      const [name, state] = rest;
      if (
        !name ||
        !['dbupgrade_fail', 'shards_403_once', 'register_blocked'].includes(name) ||
        !['on', 'off'].includes(state ?? '')
      ) {
        throw new Error('usage: scripts/lab fault dbupgrade_fail|shards_403_once|register_blocked on|off');
      }
      await withLabDb(engineOf(rest), (db) => setKv(db, `fault.${name}`, state === 'on' ? '1' : '0'));
      console.log(`fault ${name} ${state}`);
      return;
    }
    case 'reset-db': {
      const engine = engineOf(rest);
      await resetDatabase(engine);
      await applyLabSettings(engine, labState().unhealthyInterval);
      console.log(`${engine} simulator state reset`);
      return;
    }
    case 'stop-host':
    case 'start-host':
    case 'cut-host':
    case 'heal-host': {
      const host = findHost(rest[0] ?? '').name;
      const action = {
        'stop-host': stopHost,
        'start-host': startHost,
        'cut-host': cutHost,
        'heal-host': healHost,
      }[command];
      await action(host);
      console.log(`${command} ${host}: done`);
      return;
    }
    case 'seed-media':
      await seedMedia(findHost(rest[0] ?? '').name, Number(rest[1] ?? '1000'));
      return;
    case 'exec': {
      const host = findHost(rest[0] ?? '').name;
      const cmd = rest.slice(rest.indexOf('--') + 1);
      process.stdout.write(await inHost(host, cmd));
      return;
    }
    default:
      console.error(USAGE);
      process.exit(command ? 2 : 0);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    console.error(`scripts/lab: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
