// A small TCP relay for the lab's database faults (the kernel here has no netem qdisc):
//   relay-main.ts LISTEN_ADDRESS LISTEN_PORT TARGET_ADDRESS TARGET_PORT DELAY_MS [MYSQL_VERSION]
// Every chunk waits DELAY_MS in each direction (a slow link); MYSQL_VERSION, when given, replaces
// the server version in a MySQL server's greeting (a server reporting another version). Run inside
// a lab host's network namespace by lab/relay.ts; prints "listening" once it accepts connections.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { rewriteGreeting } from './mysql-greeting';

const [listenAddress, listenPort, targetAddress, targetPort, delayText, mysqlVersion] = process.argv.slice(2);
const delayMs = Number(delayText);

/** Forward `from` to `to`, each chunk after the delay, in order; `first` may rewrite the first chunk. */
function pipe(from: net.Socket, to: net.Socket, first?: (b: Buffer) => Buffer): void {
  let chain = Promise.resolve();
  let rewrite = first;
  from.on('data', (chunk: Buffer) => {
    const data = rewrite ? rewrite(chunk) : chunk;
    rewrite = undefined;
    chain = chain.then(async () => {
      if (delayMs > 0) await sleep(delayMs);
      if (!to.destroyed) to.write(data);
    });
  });
  from.on('end', () => {
    chain = chain.then(() => {
      to.end();
    });
  });
  from.on('error', () => to.destroy());
}

{
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), targetAddress);
    pipe(client, upstream);
    pipe(upstream, client, mysqlVersion ? (b) => rewriteGreeting(b, mysqlVersion) : undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(Number(listenPort), listenAddress, () => console.log('listening'));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}
