// The lab's other promises: what lab up hands over, heartbeat-based takeover after a network cut,
// the injectable API faults, backup/restore, the 2.29.1 media regression, and the schema gate.
import { readFileSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_PASSWORD_FILE, withLabDb } from '../../lab/database';
import { cutHost, healHost } from '../../lab/hosts';
import { WEBAPP_CERT_FILE } from '../../lab/image';
import {
  ADMIN_PASSWORD_FILE,
  APPROVERS,
  approverKey,
  BACKUP_PASSWORD_FILE,
  INVENTORY_FILE,
  VNAME_CERT_FILE,
} from '../../lab/inventory';
import { docker, labState, seedMedia, up, webContainer } from '../../lab/lab';
import {
  compose,
  freshStart,
  registerByHand,
  ssh,
  startClusterByHand,
  WebappClient,
} from '../../lab/operator';
import { TEST_TIMING } from '../../lab/paths';
import { readStats, setKv } from '../../lab/sim/db';
import { loadInventory } from '../../src/inventory/load';
import { type HealthBody, summarizeHealth } from '../../src/model/health';
import { labUnavailable } from './availability';
import { until } from './e2e-support';

const unavailable = await labUnavailable();

const statusOf = (h: HealthBody, address: string) =>
  Object.entries(h.health).find(([k]) => k.startsWith(`${address}:`))?.[1] as
    | { gateway_status?: string; errors?: unknown }
    | undefined;

describe.skipIf(unavailable)('lab behaviour (MySQL)', () => {
  let client: WebappClient;
  const hosts = () => labState().hosts;
  const health = async () => (await client.call('GET', '/v1/health')).json as HealthBody;
  const stats = () => withLabDb('MYSQL', readStats);

  beforeAll(async () => {
    await up({ log: () => {}, ...TEST_TIMING });
    await freshStart('MYSQL');
    await startClusterByHand('2.29.1');
    const web = hosts().find((h) => h.role === 'webapp') as { address: string };
    client = new WebappClient(`https://${web.address}:9090`);
    await until(
      'the Webapp',
      () =>
        client.login(readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim()).then(
          () => true,
          () => false,
        ),
      Boolean,
    );
    await until('the primary master', health, (h) => summarizeHealth(h).verdict === 'unregistered');
    await registerByHand(client, 'MYSQL');
    await until('HA', health, (h) => summarizeHealth(h).verdict === 'ha-connected');
  });
  afterAll(() => client?.close());

  it('lab up hands over a valid inventory (lab, lab-pg) that references its secrets and never inlines them', () => {
    const text = readFileSync(INVENTORY_FILE, 'utf8');
    const inventory = loadInventory(INVENTORY_FILE);
    expect([...inventory.clusters.keys()]).toEqual(['lab', 'lab-pg']);
    const lab = inventory.clusters.get('lab');
    expect(lab?.cluster.hosts.map((h) => h.name)).toEqual(['web1', 'master1', 'master2', 'core1', 'core2']);
    expect(lab?.cluster.spareHosts.map((h) => h.name)).toEqual(['core3']);
    expect(Object.keys(lab?.cluster.ssh?.knownHosts ?? {})).toContain('core3');
    expect(lab?.cluster.db?.engine).toBe('MYSQL');
    expect(inventory.clusters.get('lab-pg')?.cluster.db?.engine).toBe('PGSQL');
    for (const secret of [DB_PASSWORD_FILE, ADMIN_PASSWORD_FILE, VNAME_CERT_FILE, BACKUP_PASSWORD_FILE]) {
      expect(text).not.toContain(readFileSync(secret, 'utf8').trim());
      expect(text).toContain(`file:${secret}`);
    }
    // Approver keys for alice, bob and carol: the policy holds the public halves.
    expect(lab?.entry.approvals?.approvers.map((a) => a.name)).toEqual([...APPROVERS]);
    for (const name of APPROVERS)
      expect(text).toContain(
        readFileSync(`${approverKey(name)}.pub`, 'utf8')
          .trim()
          .split(' ')[1] as string,
      );
  });

  it("the Webapp's certificate is self-signed; the inventory trusts exactly it, host names checked", async () => {
    const web = hosts().find((h) => h.role === 'webapp') as { address: string };
    const lab = loadInventory(INVENTORY_FILE).clusters.get('lab');
    expect(lab?.cluster.api.tls).toEqual({ caFile: WEBAPP_CERT_FILE });
    const handshake = (opts: { ca?: Buffer; servername?: string }) =>
      new Promise<PeerCertificate>((resolve, reject) => {
        const socket = connect({ host: web.address, port: 9090, ...opts }, () => {
          resolve(socket.getPeerCertificate());
          socket.end();
        });
        socket.on('error', reject);
      });
    const ca = readFileSync(WEBAPP_CERT_FILE);
    const cert = await handshake({ ca });
    expect(cert.issuer.CN).toBe(cert.subject.CN);
    expect(cert.subjectaltname).toContain(`IP Address:${web.address}`);
    await expect(handshake({})).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await expect(handshake({ ca, servername: 'webapp.example.com' })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('a network cut of the connected Coreapp: the standby takes over after unhealthy_interval', async () => {
    const before = await health();
    const connected = hosts().find(
      (h) => statusOf(before, h.address)?.gateway_status === 'connected' && h.role === 'coreapp',
    );
    const standby = hosts().find(
      (h) => statusOf(before, h.address)?.gateway_status === 'disconnected' && h.role === 'coreapp',
    );
    if (!connected || !standby)
      throw new Error(`expected one connected and one standby Coreapp: ${JSON.stringify(before)}`);
    const cutAt = Date.now();
    await cutHost(connected.name);
    try {
      await until(
        'takeover',
        health,
        (h) => statusOf(h, standby.address)?.gateway_status === 'connected',
        30_000,
      );
      const takeoverMs = Date.now() - cutAt;
      // No graceful release: the master waits for the missed heartbeats (lab unhealthy_interval).
      expect(takeoverMs).toBeGreaterThanOrEqual((labState().unhealthyInterval - 1) * 1000);
      expect(statusOf(await health(), connected.address)?.errors).toBeDefined();
    } finally {
      await healHost(connected.name);
    }
    await until(
      'the cut Coreapp back as standby',
      health,
      (h) => statusOf(h, connected.address)?.gateway_status === 'disconnected',
    );
  });

  it('application settings: GET shows the timing the tests asked for; PATCH changes only what it names', async () => {
    const read = async () => {
      const res = await client.call('GET', '/v1/settings/application');
      expect(res.status).toBe(200);
      return res.json.settings.application as Record<string, unknown>;
    };
    const before = await read();
    expect(before).toMatchObject({
      heartbeat_interval: TEST_TIMING.heartbeatInterval,
      unhealthy_interval: TEST_TIMING.unhealthyInterval,
      callback_persist: true,
    });
    const patch = { sent_status: !before.sent_status, webhooks: { url: 'https://hooks.example/lab' } };
    try {
      expect((await client.call('PATCH', '/v1/settings/application', patch)).status).toBe(200);
      expect(await read()).toEqual({ ...before, ...patch });
      // With a bad token the API answers 401 in the documented error envelope and changes nothing.
      const anonymous = await client.call(
        'PATCH',
        '/v1/settings/application',
        { sent_status: false },
        'Bearer x',
      );
      expect(anonymous.status).toBe(401);
      expect(anonymous.json.errors[0]).toMatchObject({ code: expect.any(Number), title: expect.any(String) });
      expect((await read()).sent_status).toBe(patch.sent_status);
    } finally {
      const restore = { sent_status: before.sent_status, webhooks: before.webhooks };
      await client.call('PATCH', '/v1/settings/application', restore);
    }
  });

  it('set shards answers a one-time 403 under the fault flag; the retry succeeds', async () => {
    await withLabDb('MYSQL', (db) => setKv(db, 'fault.shards_403_once', '1'));
    const body = { cc: '1', phone_number: '5550100', shards: 1 };
    const first = await client.call('POST', '/v1/account/shards', body);
    expect(first.status).toBe(403);
    const before = (await stats()).shards ?? 0;
    expect((await client.call('POST', '/v1/account/shards', body)).status).toBe(201);
    expect((await stats()).shards).toBe(before + 1);
  });

  it('registration can be blocked as after the sunset (1005)', async () => {
    await withLabDb('MYSQL', (db) => setKv(db, 'fault.register_blocked', '1'));
    try {
      const res = await client.call('POST', '/v1/account', {
        cc: '1',
        phone_number: '5550100',
        method: 'sms',
        cert: 'eA==',
      });
      expect(res.status).toBe(403);
      expect(res.json.errors[0]).toMatchObject({
        code: 1005,
        title: 'Access denied',
        details: 'Unknown error: biz_link_on_prem_reg_blocked',
      });
    } finally {
      await withLabDb('MYSQL', (db) => setKv(db, 'fault.register_blocked', '0'));
    }
  });

  it('settings backup and restore, counted', async () => {
    const before = await stats();
    const backup = await client.call('POST', '/v1/settings/backup', { password: 'Backup-Pass-1' });
    expect(backup.status).toBe(200);
    expect(typeof backup.json.settings.data).toBe('string');
    const wrong = await client.call('POST', '/v1/settings/restore', {
      password: 'nope',
      data: backup.json.settings.data,
    });
    expect(wrong.status).toBe(400);
    const ok = await client.call('POST', '/v1/settings/restore', {
      password: 'Backup-Pass-1',
      data: backup.json.settings.data,
    });
    expect(ok.status).toBe(200);
    const after = await stats();
    expect(after.backup).toBe((before.backup ?? 0) + 1);
    expect(after.restore).toBe((before.restore ?? 0) + 1);
  });

  it('2.29.1 writes media owned by a non-root user; chown -R root in the Webapp container fixes it', async () => {
    const web = hosts().find((h) => h.role === 'webapp') as { name: string; address: string };
    await seedMedia(web.name, 200);
    const container = await webContainer(web.name);
    const owners = async () =>
      (
        await docker(web.name, [
          'exec',
          container,
          'sh',
          '-c',
          'find /usr/local/wamedia/incoming /usr/local/wamedia/outgoing /usr/local/wamedia/shared ! -user root | wc -l',
        ])
      ).trim();
    expect(Number(await owners())).toBeGreaterThanOrEqual(600);
    await docker(web.name, [
      'exec',
      container,
      'chown',
      '-R',
      'root',
      '/usr/local/wamedia/incoming',
      '/usr/local/wamedia/outgoing',
      '/usr/local/wamedia/shared',
    ]);
    expect(await owners()).toBe('0');
  });

  it('MySQL schema gate: a newer Coreapp waits for the dbupgrade job of its version', async () => {
    const core = hosts().find((h) => h.role === 'coreapp' && !h.spare) as { name: string; address: string };
    await compose(core.address, 'prod-multiconnect-compose.yml', '2.29.3', ['up', '-d', 'wacore']);
    await until('the new Coreapp to refuse', health, (h) =>
      Object.entries(h.health).some(
        ([k, n]) =>
          k.startsWith(`${core.address}:`) &&
          (n as { gateway_status?: string }).gateway_status === 'uninitialized',
      ),
    );
    const logs = await ssh(
      core.address,
      'cd ~/biz && EXTERNAL_HOSTNAME=x WA_API_VERSION=2.29.3 docker-compose -f prod-multiconnect-compose.yml logs --no-color wacore',
    );
    expect(logs).toContain('run the dbupgrade job of v2.29.3');
    const master = hosts().find((h) => h.role === 'master') as { address: string };
    const exit = await ssh(
      master.address,
      `cd ~/biz && export EXTERNAL_HOSTNAME=${master.address} WA_API_VERSION=2.29.3 && docker-compose -f dbupgrade-compose.yml up -d >/dev/null 2>&1 && docker wait $(docker-compose -f dbupgrade-compose.yml ps -q dbupgrade)`,
    );
    expect(exit.trim()).toBe('0');
    await until('the new Coreapp to serve', health, (h) =>
      Object.entries(h.health).some(
        ([k, n]) =>
          k.startsWith(`${core.address}:`) &&
          ['connected', 'disconnected'].includes((n as { gateway_status?: string }).gateway_status ?? ''),
      ),
    );
  });
});
