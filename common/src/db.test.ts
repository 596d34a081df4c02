import pino from 'pino';
import type { Options } from 'sequelize';
import { createSequelize } from './db';

/** The options a Sequelize instance was built with (public at run time, missing from its types). */
const optionsOf = (s: object) => (s as { options: Options }).options;

/** The Azure SQL path cannot run here (no SQL Server); its connection settings can be checked. */
describe('database connections', () => {
  const logger = pino({ level: 'silent' });

  it('connects to Azure SQL through tedious, encrypted, with the certificate verified', async () => {
    const s = createSequelize(
      {
        dialect: 'mssql',
        host: 'example.database.windows.net',
        port: 1433,
        database: 'catalog',
        user: 'u',
        password: 'p',
        poolMax: 5,
        ssl: false,
      },
      logger,
    );
    expect(s.getDialect()).toBe('mssql');
    expect(optionsOf(s).dialectOptions).toEqual({ options: { encrypt: true, trustServerCertificate: false } });
    expect(optionsOf(s).timezone).toBe('+00:00');
    await s.close();
  });

  it('stores MariaDB/MySQL text as utf8mb4 and verifies TLS when DB_SSL is on', async () => {
    const s = createSequelize(
      { dialect: 'mariadb', host: 'h', port: 3306, database: 'd', poolMax: 5, ssl: true },
      logger,
    );
    expect(optionsOf(s).define).toMatchObject({ charset: 'utf8mb4' });
    expect(optionsOf(s).dialectOptions).toEqual({ ssl: { rejectUnauthorized: true } });
    await s.close();
  });
});
