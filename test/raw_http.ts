/** HTTP requests whose path goes out byte for byte, for tests of path handling (fetch would normalise `..` away). */
import net from 'node:net';

/** `GET <p>` to the server on 127.0.0.1:`port`: its status and the whole raw response. */
export function rawGet(port: number, p: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), text: data }));
    sock.on('error', reject);
  });
}
