import { describe, expect, it } from 'vitest';
import { parseDetect, parsePs } from '../../activities/compose';
import { composeCommand, psCommand } from '../../src/model/commands';

const call = {
  workDir: '/root/biz',
  file: 'prod-multiconnect-compose.yml',
  externalHostname: '10.0.0.31',
  version: '2.23.4',
  variant: 'v1' as const,
};

describe('compose commands', () => {
  it('always sets both variables, v1 and v2', () => {
    expect(composeCommand(call, ['up', '-d', 'wacore'])).toBe(
      'cd /root/biz && EXTERNAL_HOSTNAME=10.0.0.31 WA_API_VERSION=2.23.4 docker-compose -f prod-multiconnect-compose.yml up -d wacore',
    );
    expect(composeCommand({ ...call, variant: 'v2' }, ['down'])).toBe(
      'cd /root/biz && EXTERNAL_HOSTNAME=10.0.0.31 WA_API_VERSION=2.23.4 docker compose -f prod-multiconnect-compose.yml down',
    );
  });

  it('quotes values that could reach a shell', () => {
    expect(composeCommand({ ...call, workDir: '/root/my biz' }, ['ps'])).toContain("cd '/root/my biz' && ");
  });

  it("ps asks the daemon for the project's containers, stopped ones too (-a), through docker inspect", () => {
    const ps = psCommand(call, 'wacore');
    expect(ps).toMatch(/^ids=\$\(cd \/root\/biz && \{ p=\$COMPOSE_PROJECT_NAME; /);
    expect(ps).toContain(
      'docker ps -a -q --no-trunc --filter "label=com.docker.compose.project=$p" --filter label=com.docker.compose.service=wacore; }) || exit $?; if [ -z "$ids" ]; then echo \'[]\'; else docker inspect $ids; fi',
    );
    // v1 names the project after the physical work dir, v2 after the logical one.
    expect(ps).toContain('basename "$(pwd -P)"');
    expect(psCommand({ ...call, variant: 'v2' })).toContain('basename "$(pwd -L)"');
    expect(psCommand(call)).not.toContain('docker-compose');
  });

  it('parses detection and inspect output', () => {
    expect(parseDetect('v1\n')).toEqual({ variant: 'v1' });
    expect(parseDetect('v2 2.24.0\n')).toEqual({ variant: 'v2', version: '2.24.0' });
    expect(parseDetect('none')).toBeUndefined();
    const inspect = JSON.stringify([
      {
        Id: 'abcdef1234567890',
        Name: '/biz_wacore_1',
        Config: {
          Image: 'docker.whatsapp.biz/coreapp:v2.23.4',
          Labels: { 'com.docker.compose.service': 'wacore' },
        },
        State: { Status: 'exited', Running: false, ExitCode: 1, Restarting: false },
      },
    ]);
    expect(parsePs(inspect)).toEqual([
      {
        service: 'wacore',
        name: 'biz_wacore_1',
        id: 'abcdef123456',
        image: 'docker.whatsapp.biz/coreapp:v2.23.4',
        state: 'exited',
        running: false,
        exitCode: 1,
        restarting: false,
      },
    ]);
    expect(parsePs('[]')).toEqual([]);
  });
});
