// Proof that the lab is faithful: an operator walks the seed's procedures A and B BY HAND (plain
// ssh/scp, docker-compose with the UNMODIFIED upstream files, HTTPS calls), on MySQL and PostgreSQL,
// and the health answers match the seed's; failover and the dbupgrade job behave as documented.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../lab/database';
import { ADMIN_PASSWORD_FILE } from '../../lab/inventory';
import { labState, up } from '../../lab/lab';
import { compose, freshStart, ssh, WebappClient } from '../../lab/operator';
import { TEST_TIMING } from '../../lab/paths';
import { run } from '../../lab/run';
import { type HealthBody, summarizeHealth } from '../../src/model/health';
import { labUnavailable } from './availability';
import { until } from './e2e-support';

const unavailable = await labUnavailable();
const COMPOSE = 'prod-multiconnect-compose.yml';
const V = '2.23.4';

async function lab(args: string[]): Promise<string> {
  return run(path.join(__dirname, '../../scripts/lab'), args);
}

const roles = (h: HealthBody) =>
  Object.values(h.health).map((n) => {
    const node = n as { gateway_status?: string; role?: string; errors?: { code: number }[] };
    return node.errors ? `error ${node.errors[0]?.code}` : `${node.role}:${node.gateway_status}`;
  });
const count = (list: string[], item: string) => list.filter((x) => x === item).length;
const sorted = (list: string[]) => [...list].sort();

/** The seed's health outputs after B2 and B4 (000_….txt), one `role:gateway_status` per node. */
const SEED_B2 = [
  'secondary_master:disconnected',
  'primary_master:connected',
  'coreapp:connected',
  'coreapp:connected',
];
const SEED_B4 = [
  'secondary_master:disconnected',
  'primary_master:disconnected',
  'coreapp:connected',
  'coreapp:connected',
  'coreapp:disconnected',
];
/**
 * The lab's one departure, on purpose: its primary master reports `disconnected` in B2 too. The
 * docs disagree (reference §6: the seed's B2 shows it `connected`, its B4 `disconnected`, S3 says it
 * connects in Multiconnect) and the runbooks' gates key on Coreapp counts, accepting either.
 */
const LAB_B2 = SEED_B2.map((r) => (r === 'primary_master:connected' ? 'primary_master:disconnected' : r));

describe.skipIf(unavailable)('the seed procedure by hand on the lab', () => {
  beforeAll(async () => {
    await up({ log: () => {}, ...TEST_TIMING });
  }, 300_000);

  describe.each(['MYSQL', 'PGSQL'] as Engine[])('with %s', (engine) => {
    const hosts = () => labState().hosts;
    const byRole = (role: string) => hosts().filter((h) => h.role === role && !h.spare);
    const web = () => byRole('webapp')[0] as { address: string };
    const spare = () => hosts().find((h) => h.spare) as { name: string; address: string };
    let client: WebappClient;

    const health = async () => {
      const res = await client.call('GET', '/v1/health');
      expect(res.status).toBe(200);
      return res.json as HealthBody;
    };

    const rowOf = (h: HealthBody, address: string) => {
      const entries = Object.entries(h.health).filter(([k]) => k.startsWith(`${address}:`));
      expect(entries).toHaveLength(1);
      return roles({ health: Object.fromEntries(entries) } as HealthBody)[0];
    };
    /** Each node answers from its own host: masters on master hosts, Coreapps on Coreapp hosts. */
    const expectRolesOnTheirHosts = (h: HealthBody) => {
      for (const key of Object.keys(h.health)) expect(key).toMatch(/^198\.18\.77\.\d+:[0-9a-f]{12}$/);
      for (const m of byRole('master')) expect(rowOf(h, m.address)).toMatch(/^(primary|secondary)_master:/);
      for (const c of byRole('coreapp')) expect(rowOf(h, c.address)).toMatch(/^coreapp:/);
    };

    beforeAll(async () => {
      await freshStart(engine);
      client = new WebappClient(`https://${web().address}:9090`);
    }, 120_000);

    afterAll(async () => {
      await client?.close();
    });

    it('A5-A7: services start host by host; before registration the primary master is unregistered', async () => {
      // A5 host by host: waweb, then the masters, then the Coreapps, with the unmodified file.
      await compose(web().address, COMPOSE, V, ['up', '-d', 'waweb']);
      for (const h of byRole('master')) await compose(h.address, COMPOSE, V, ['up', '-d', 'master']);
      for (const h of byRole('coreapp')) await compose(h.address, COMPOSE, V, ['up', '-d', 'wacore']);
      // A6: `ps` needs both variables; without them the upstream file refuses to load.
      const ps = await compose(byRole('coreapp')[0]?.address as string, COMPOSE, V, ['ps']);
      expect(ps).toMatch(/biz_wacore_1\s+\/opt\/whatsapp\/bin\/wait_on_ .*Up/);
      await expect(
        ssh(web().address, 'cd ~/biz && docker-compose -f prod-multiconnect-compose.yml ps'),
      ).rejects.toThrow(/WA_API_VERSION/);

      await until(
        'the webapp',
        () =>
          client.login(readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim()).then(
            () => true,
            () => false,
          ),
        (ok) => ok,
      );
      const a7 = await until(
        'A7 health',
        health,
        (h) => Object.keys(h.health).length === 4 && count(roles(h), 'primary_master:unregistered') === 1,
      );
      expect(roles(a7).sort()).toEqual([
        'error 1011',
        'error 1011',
        'error 1011',
        'primary_master:unregistered',
      ]);
      for (const key of Object.keys(a7.health)) expect(key).toMatch(/^198\.18\.77\.\d+:[0-9a-f]{12}$/);
      const errorNode = Object.values(a7.health).find((n) => (n as { errors?: unknown }).errors);
      expect(errorNode).toEqual({
        errors: [
          {
            code: 1011,
            title: 'Service not ready',
            details: 'Wacore is not instantiated. Please check wacore log for details.',
          },
        ],
      });
      expect(summarizeHealth(a7).verdict).toBe('unregistered');
    });

    it('A8-A9: registration with the SMS code; then exactly one Coreapp is connected', async () => {
      const account = await client.call('POST', '/v1/account', {
        cc: '1',
        phone_number: '5550100',
        method: 'sms',
        cert: 'TEFCQ0VSVA==',
      });
      expect(account.status).toBe(202);
      const code = (await lab(['sms-code', '--engine', engine])).trim();
      expect(code).toMatch(/^\d{6}$/);
      expect((await client.call('POST', '/v1/account/verify', { code })).status).toBe(201);
      const a9 = await until('A9 health', health, (h) => summarizeHealth(h).verdict === 'ha-connected');
      expect(roles(a9).sort()).toEqual([
        'coreapp:connected',
        'coreapp:disconnected',
        'primary_master:disconnected',
        'secondary_master:disconnected',
      ]);
      // Registering again answers 201: already registered.
      expect(
        (
          await client.call('POST', '/v1/account', {
            cc: '1',
            phone_number: '5550100',
            method: 'sms',
            cert: 'TEFCQ0VSVA==',
          })
        ).status,
      ).toBe(201);
    });

    it('B1-B4: two shards connect two Coreapps; a third joins as standby', async () => {
      const shards = await client.call('POST', '/v1/account/shards', {
        cc: '1',
        phone_number: '5550100',
        shards: 2,
      });
      expect(shards.status).toBe(201);
      const b2 = await until(
        'B2 health',
        health,
        (h) => summarizeHealth(h).verdict === 'multiconnect-connected:2',
      );
      expect(sorted(roles(b2))).toEqual(sorted(LAB_B2));
      expectRolesOnTheirHosts(b2);
      await compose(spare().address, COMPOSE, V, ['up', '-d', 'wacore']);
      const b4 = await until(
        'B4 health',
        health,
        (h) => Object.keys(h.health).length === 5 && count(roles(h), 'coreapp:disconnected') === 1,
      );
      expect(sorted(roles(b4))).toEqual(sorted(SEED_B4));
      expectRolesOnTheirHosts(b4);
      // As in the seed, the new Coreapp is the standby.
      expect(rowOf(b4, spare().address)).toBe('coreapp:disconnected');
      expect(summarizeHealth(b4).verdict).toBe('multiconnect-connected:2');
    });

    it('failover: stopping the host of a connected Coreapp makes the standby connect', async () => {
      const before = await health();
      const connectedKey = Object.entries(before.health).find(
        ([, n]) => (n as { gateway_status?: string }).gateway_status === 'connected',
      )?.[0] as string;
      const victim = hosts().find((h) => connectedKey.startsWith(`${h.address}:`)) as {
        name: string;
        address: string;
      };
      await lab(['stop-host', victim.name]);
      const after = await until(
        'takeover',
        health,
        (h) =>
          Object.entries(h.health).filter(
            ([k, n]) =>
              !k.startsWith(`${victim.address}:`) &&
              (n as { gateway_status?: string }).gateway_status === 'connected',
          ).length === 2,
      );
      expect(count(roles(after), 'coreapp:connected')).toBe(2);
      await lab(['start-host', victim.name]);
      // Back after the "reboot" (restart: unless-stopped) as a standby.
      await until('the stopped Coreapp back as standby', health, (h) =>
        Object.entries(h.health).some(
          ([k, n]) =>
            k.startsWith(`${victim.address}:`) &&
            (n as { gateway_status?: string }).gateway_status === 'disconnected',
        ),
      );
    });

    it('D: the dbupgrade job exits 0 (and non-zero under the lab fault), `docker wait` reports it', async () => {
      const master = byRole('master')[0] as { name: string; address: string };
      const statsBefore = JSON.parse(await lab(['stats', '--engine', engine])) as Record<string, number>;
      const job = (version: string) =>
        ssh(
          master.address,
          `cd ~/biz && export EXTERNAL_HOSTNAME=${master.address} WA_API_VERSION=${version} && docker-compose -f dbupgrade-compose.yml up -d >/dev/null 2>&1 && docker wait $(docker-compose -f dbupgrade-compose.yml ps -q dbupgrade); docker-compose -f dbupgrade-compose.yml rm -fs >/dev/null 2>&1`,
        );
      expect((await job('2.29.3')).trim()).toBe('0');
      const statsAfter = JSON.parse(await lab(['stats', '--engine', engine])) as Record<string, number>;
      expect((statsAfter.dbupgrade ?? 0) - (statsBefore.dbupgrade ?? 0)).toBe(1);
      await lab(['fault', 'dbupgrade_fail', 'on', '--engine', engine]);
      try {
        expect((await job('2.41.2')).trim()).not.toBe('0');
      } finally {
        await lab(['fault', 'dbupgrade_fail', 'off', '--engine', engine]);
      }
      // The cluster still serves on 2.23.4 against the upgraded schema (zero downtime).
      await until(
        'health on the upgraded schema',
        health,
        (h) => summarizeHealth(h).verdict === 'multiconnect-connected:2',
      );
    });

    it('F: down on every host (both variables set) leaves no container', async () => {
      for (const h of hosts()) await compose(h.address, COMPOSE, V, ['down']);
      for (const h of hosts()) expect((await ssh(h.address, 'docker ps -aq')).trim()).toBe('');
    });
  });
});
