// The codec server alone: `node --import tsx src/codec/main.ts`. Needs WABA_CODEC_KEYS or
// WABA_CODEC_KEYS_FILE; listens on 127.0.0.1:WABA_CODEC_PORT (8888). Point the Web UI at it
// (`temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888`, or the UI's settings).
import { codecFromEnv } from './keys';
import { codecServerEnv, startCodecServer } from './server';

async function main(): Promise<void> {
  const codec = codecFromEnv();
  if (!codec) throw new Error('the codec server needs WABA_CODEC_KEYS or WABA_CODEC_KEYS_FILE');
  const { port, corsOrigin, authToken } = codecServerEnv();
  const server = await startCodecServer({ codec, port, corsOrigin, authToken });
  console.log(
    `codec server at ${server.url} (encrypting with key "${codec.keyId}", CORS origin ${corsOrigin.join(', ')}${
      authToken ? ', bearer token required' : ''
    }); Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
