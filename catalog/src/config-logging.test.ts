import { Writable } from 'node:stream';
import { createLogger } from '@portable-dapr/common';
import { loadConfig } from './config';

describe('the service logger', () => {
  it("never writes a configuration's secrets", () => {
    const lines: string[] = [];
    const out = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const stdoutWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string) => out.write(chunk);
    try {
      const config = loadConfig({
        DB_SERVER: 'db',
        DB_NAME: 'n',
        DB_PASSWORD: 'pw-1',
        DAPR_API_TOKEN: 'tok-2',
        APP_API_TOKEN: 'tok-3',
      });
      createLogger('catalog', 'info').info({ config }, 'started');
      const url = loadConfig({ DATABASE_URL: 'postgres://u:pw-4@h/db' });
      createLogger('catalog', 'info').info({ config: url }, 'started');
    } finally {
      process.stdout.write = stdoutWrite;
    }
    const text = lines.join('');
    expect(text).toContain('started');
    for (const secret of ['pw-1', 'tok-2', 'tok-3', 'pw-4']) expect(text).not.toContain(secret);
  });
});
