// The simulator: one program for every role of the WhatsApp Business API On-Premises images.
// The role comes from the same inputs as the real images (image kind, WA_MASTER_NODE, WA_DB_UPGRADE).
import { setTimeout as sleep } from 'node:timers/promises';
import { compareVersions } from '../../src/model/version';
import { type Db, dbConfigFromEnv, getKv, openDb, setKv } from './db';
import { identityFromEnv } from './identity';
import { prepareMedia, seedMedia } from './media';
import { runNode } from './node';
import { driftSettingsOnNewVersion, fault, schemaCheck } from './state';
import { startWebapp } from './webapp';

const me = identityFromEnv(process.env);
const log = (m: string) =>
  console.log(`${new Date().toISOString()} [${me.role} ${me.id} v${me.version}] ${m}`);

// Node as PID 1 ignores SIGTERM without a handler: handle it and exit promptly, releasing what we hold.
let signalStop: () => void = () => {};
let stopping = false;
const stop = new Promise<void>((resolve) => {
  signalStop = resolve;
}).then(() => {
  stopping = true;
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    log(`${sig}: shutting down`);
    signalStop();
    setTimeout(() => process.exit(0), 3000).unref();
  });
}

async function connect(): Promise<Db> {
  const cfg = dbConfigFromEnv(process.env);
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDb(cfg);
    } catch (err) {
      if (attempt === 1 || attempt % 10 === 0)
        log(`waiting for ${cfg.engine} at ${cfg.host}:${cfg.port}: ${(err as Error).message}`);
      await Promise.race([sleep(1000), stop]);
      if (stopping) process.exit(0);
    }
  }
}

async function dbUpgrade(db: Db): Promise<number> {
  await db.bump('dbupgrade');
  const { schema } = await schemaCheck(db, me.version);
  log(`database upgrade to v${me.version} starting (schema v${schema ?? 'none'})`);
  // The lab may make the job last longer (kv dbupgrade_seconds) to test a worker dying meanwhile.
  await sleep(1000 * Number((await getKv(db, 'dbupgrade_seconds')) ?? '1'));
  if (await fault(db, 'dbupgrade_fail')) {
    log('ERROR database upgrade failed: injected lab fault dbupgrade_fail');
    return 1;
  }
  if (schema === undefined || compareVersions(schema, me.version) < 0)
    await setKv(db, 'schema_version', me.version);
  log(`database upgrade to v${me.version} complete`);
  return 0;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'seed-media') {
    seedMedia(Number(process.argv[3] ?? '100'));
    return;
  }
  log('starting');
  const db = await connect();
  switch (me.role) {
    case 'dbupgrade': {
      const code = await dbUpgrade(db);
      if (code === 0 && process.env.EXIT_ON_SUCCESS?.toUpperCase() === 'FALSE') {
        log('EXIT_ON_SUCCESS=FALSE: staying up after a successful upgrade');
        await stop;
      }
      await db.close();
      process.exit(code);
      break;
    }
    case 'webapp': {
      prepareMedia(me.version, log);
      await driftSettingsOnNewVersion(db, me.version, log).catch((err) =>
        log(`settings drift check failed: ${(err as Error).message}`),
      );
      const server = startWebapp(db, me, dbConfigFromEnv(process.env).engine, log);
      await stop;
      server.close();
      process.exit(0);
      break;
    }
    default: {
      await runNode(db, me, dbConfigFromEnv(process.env).engine, stop, log);
      process.exit(0);
    }
  }
}

main().catch((err) => {
  log(`fatal: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
