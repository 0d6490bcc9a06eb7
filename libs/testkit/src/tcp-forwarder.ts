import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

/** A TCP forwarder: a server that comes up late on a port a service was told to use. */
export interface TcpForwarder {
  port: number;
  /** Stops listening and closes every forwarded connection. */
  close(): Promise<void>;
}

/** `host` and `port` of `host:port` or of a URL (`amqp://user:pass@host:5672`). */
function addressOf(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const defaults: Record<string, number> = { 'amqp:': 5672, 'amqps:': 5671 };
  return { host: url.hostname, port: Number(url.port || defaults[url.protocol]) };
}

/**
 * Listens on 127.0.0.1:`port` and forwards each connection to `target` (e.g. the shared RabbitMQ
 * or Kafka), so a test can start a service against a closed port and then make the dependency
 * appear there, without a server of its own.
 */
export async function startTcpForwarder(
  port: number,
  to: { host: string; port: number } | string,
): Promise<TcpForwarder> {
  const target = typeof to === 'string' ? addressOf(to) : to;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((incoming) => {
    const outgoing = connect(target.port, target.host);
    track(incoming);
    track(outgoing);
    incoming.on('error', () => outgoing.destroy());
    outgoing.on('error', () => incoming.destroy());
    incoming.pipe(outgoing).pipe(incoming);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
