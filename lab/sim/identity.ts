/** Who this container is, from the same inputs as the real images. */
export interface NodeIdentity {
  /** Health key `<COREAPP_HOSTNAME|WEBAPP_HOSTNAME>:<short container id>`. */
  id: string;
  role: 'webapp' | 'master' | 'coreapp' | 'dbupgrade';
  version: string;
  primary: boolean;
  lastStatus?: string;
  /** When this process started (ms): a settings restore after it stops a Coreapp until restarted. */
  startedAt: number;
}

export function identityFromEnv(env: NodeJS.ProcessEnv): NodeIdentity {
  const image = env.WA_SIM_IMAGE === 'web' ? 'web' : 'coreapp';
  const role =
    image === 'web'
      ? 'webapp'
      : env.WA_DB_UPGRADE === '1'
        ? 'dbupgrade'
        : env.WA_MASTER_NODE === '1'
          ? 'master'
          : 'coreapp';
  const host =
    (role === 'webapp' ? env.WEBAPP_HOSTNAME : env.COREAPP_HOSTNAME) ?? env.HOSTNAME ?? 'localhost';
  const shortId = (env.HOSTNAME ?? 'unknown').slice(0, 12);
  return {
    id: `${host}:${shortId}`,
    role,
    version: env.WA_SIM_VERSION ?? '0.0.0',
    primary: false,
    startedAt: Date.now(),
  };
}
