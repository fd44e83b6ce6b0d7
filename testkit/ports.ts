import { createServer } from 'node:net';

/** A TCP port free on `address` (127.0.0.1 unless given) right now: the system picks it. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const bound = server.address();
      server.close(() => (typeof bound === 'object' && bound ? resolvePort(bound.port) : reject(new Error('no port'))));
    });
  });
}
