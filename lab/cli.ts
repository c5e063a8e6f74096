// scripts/lab: bring the simulated cluster up and down, inject faults, read evidence.

import { applyLabSettings, type Engine, requireDatabase, resetDatabase, withLabDb } from './database';
import { cutHost, healHost, inHost, startHost, stopHost } from './hosts';
import { buildRootfs, loadImages } from './image';
import {
  down,
  findHost,
  hostStatus,
  type LabState,
  labState,
  labTiming,
  requireNetns,
  requireRoot,
  seedMedia,
  up,
} from './lab';
import { DB_HOST, PRODUCT_TIMING, TEST_TIMING, TIMING_ENV } from './paths';
import { relayToDatabase } from './relay';
import { getKv, readStats, setKv } from './sim/db';

const USAGE = `usage: scripts/lab <command>
  up [--engine MYSQL|PGSQL] [--webs N] [--masters N] [--cores N] [--spares N]
     [--unhealthy-interval S] [--heartbeat-interval S]
                                the product's timing (${PRODUCT_TIMING.unhealthyInterval} s / ${PRODUCT_TIMING.heartbeatInterval} s) unless asked (or ${TIMING_ENV.unhealthyInterval});
                                the tests ask for ${TEST_TIMING.unhealthyInterval} s / ${TEST_TIMING.heartbeatInterval} s
  down [--purge]                remove everything up made (--purge: the .lab/cache too)
  status                        hosts and their daemons
  images                        rebuild and load the simulator images into every host
  sms-code [--engine E]         the verification code the simulator "sent by SMS"
  stats [--engine E]            counters of side-effecting API calls and dbupgrade runs (JSON)
  fault NAME on|off [--engine E]  dbupgrade_fail | shards_403_once | register_blocked | settings_drift
  reset-db [--engine E]         forget the simulated cluster's state (registration, nodes, stats)
  stop-host|start-host|cut-host|heal-host NAME
  seed-media HOST COUNT         COUNT media files per folder, owned by a non-root user
  exec HOST -- CMD...           run a command as root on a lab host
  db-relay HOST PORT [--delay-ms N] [--mysql-version V] [--engine E]
                                until interrupted: HOST's address:PORT relays to the lab database
                                (a database "on" HOST; a slow link; a server reporting version V)`;

const FAULTS = ['dbupgrade_fail', 'shards_403_once', 'register_blocked', 'settings_drift'];

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function engineOf(args: string[], state: LabState): Engine {
  const e = option(args, '--engine') ?? state.engine;
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

/** What a command needs, checked in this order so the message names the first thing missing. */
async function need(command: string, what: { netns?: boolean } = {}): Promise<LabState> {
  requireRoot(`scripts/lab ${command}`);
  if (what.netns) await requireNetns(`scripts/lab ${command}`);
  return labState();
}

/** A command on the lab database: root (the password is root's), the lab up, that server running. */
async function onDatabase(command: string, args: string[]): Promise<Engine> {
  const engine = engineOf(args, await need(command));
  requireDatabase(engine);
  return engine;
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
        heartbeatInterval: intOption(rest, '--heartbeat-interval'),
      });
      console.log(
        `lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: the worker reads .lab/inventory.yaml`,
      );
      return;
    }
    case 'down':
      return down(console.log, { purge: rest.includes('--purge') });
    case 'status':
      await need(command);
      console.log(JSON.stringify(hostStatus(), null, 2));
      return;
    case 'images': {
      const state = await need(command, { netns: true });
      const stamp = await buildRootfs();
      await Promise.all(state.hosts.map((h) => loadImages((a) => inHost(h.name, ['docker', ...a]), stamp)));
      console.log(`images ${stamp} loaded on every host`);
      return;
    }
    case 'sms-code': {
      const engine = await onDatabase(command, rest);
      const code = await withLabDb(engine, (db) => getKv(db, 'sms_code'));
      if (!code) throw new Error('no verification code is pending (POST /v1/account has not answered 202)');
      console.log(code);
      return;
    }
    case 'stats': {
      const engine = await onDatabase(command, rest);
      console.log(JSON.stringify(await withLabDb(engine, readStats)));
      return;
    }
    case 'fault': {
      const [name, state] = rest;
      if (!name || !FAULTS.includes(name) || !['on', 'off'].includes(state ?? ''))
        throw new Error(`usage: scripts/lab fault ${FAULTS.join('|')} on|off [--engine MYSQL|PGSQL]`);
      const engine = await onDatabase(command, rest);
      await withLabDb(engine, (db) => setKv(db, `fault.${name}`, state === 'on' ? '1' : '0'));
      console.log(`fault ${name} ${state}`);
      return;
    }
    case 'reset-db': {
      const engine = await onDatabase(command, rest);
      await resetDatabase(engine);
      await applyLabSettings(engine, labTiming(labState()));
      console.log(`${engine} simulator state reset`);
      return;
    }
    case 'stop-host':
    case 'start-host':
    case 'cut-host':
    case 'heal-host': {
      await need(command, { netns: true });
      const host = findHost(rest[0]).name;
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
    case 'seed-media': {
      await need(command, { netns: true });
      const host = findHost(rest[0]).name;
      const count = intOption(['--count', rest[1] ?? '1000'], '--count') as number;
      await seedMedia(host, count);
      return;
    }
    case 'exec': {
      await need(command, { netns: true });
      const host = findHost(rest[0]).name;
      const dash = rest.indexOf('--');
      const cmd = dash >= 0 ? rest.slice(dash + 1) : rest.slice(1);
      if (cmd.length === 0) throw new Error('usage: scripts/lab exec HOST -- CMD...');
      process.stdout.write(await inHost(host, cmd));
      return;
    }
    case 'db-relay': {
      const engine = await onDatabase(command, rest);
      const host = rest[0] === 'db' ? DB_HOST : findHost(rest[0]);
      const port = intOption(['--port', rest[1] ?? ''], '--port');
      if (!port || port > 65535)
        throw new Error('usage: scripts/lab db-relay HOST PORT [--delay-ms N] [--mysql-version V]');
      const relay = await relayToDatabase(host, port, engine, {
        delayMs: intOption(rest, '--delay-ms'),
        mysqlVersion: option(rest, '--mysql-version'),
      });
      console.log(
        `${host.address}:${port} relays to the ${engine} database (pid ${relay.pid}); Ctrl-C stops it`,
      );
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await relay.stop();
      return;
    }
    default:
      if (command && !['help', '--help', '-h'].includes(command)) {
        console.error(`scripts/lab: unknown command "${command}"\n${USAGE}`);
        process.exit(2);
      }
      console.log(USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    console.error(`scripts/lab: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
