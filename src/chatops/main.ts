// `npm run chatops`: the ChatOps endpoint alone (docs/chatops.md), configured from the environment.
import { startChatopsFromEnv } from './from-env';

async function main(): Promise<void> {
  const chatops = await startChatopsFromEnv();
  console.log(chatops.describe);
  const stop = () => {
    chatops.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`chatops: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
