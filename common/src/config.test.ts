import { baseEnvSchema, ConfigError, dbConfigFrom, parseEnv } from './config';

const parse = (env: Record<string, string>) => dbConfigFrom(parseEnv(baseEnvSchema, env));

describe('configuration', () => {
  it('defaults to PostgreSQL with the original DB_* variables', () => {
    expect(parse({ DB_SERVER: 'db', DB_NAME: 'catalog', DB_USER: 'u', DB_PASSWORD: 'p' })).toEqual({
      dialect: 'postgres',
      host: 'db',
      port: 5432,
      database: 'catalog',
      user: 'u',
      password: 'p',
      poolMax: 10,
      ssl: false,
    });
  });

  it('takes the default port of each engine', () => {
    expect(parse({ DB_DIALECT: 'mssql', DB_SERVER: 'x.database.windows.net', DB_NAME: 'c' }).port).toBe(1433);
    expect(parse({ DB_DIALECT: 'mariadb', DB_SERVER: 'h', DB_NAME: 'c' }).port).toBe(3306);
  });

  it('accepts one DATABASE_URL instead', () => {
    expect(parse({ DATABASE_URL: 'postgres://u:p@h:5433/c' })).toMatchObject({ url: 'postgres://u:p@h:5433/c' });
  });

  it('reports every bad variable at once, by name', () => {
    const attempt = () => parseEnv(baseEnvSchema, { PORT: 'eighty', DB_DIALECT: 'oracle', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const fields = (err as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(fields).toEqual(expect.arrayContaining(['PORT', 'DB_DIALECT', 'LOG_LEVEL']));
    }
  });

  it('names the missing server and database', () => {
    expect(() => parse({})).toThrow(/DB_SERVER: required[\s\S]*DB_NAME: required/);
  });

  it('rejects a DATABASE_URL that is not a URL and a port out of range', () => {
    expect(() => parse({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => parse({ DB_SERVER: 'h', DB_NAME: 'n', DB_PORT: '70000' })).toThrow(/DB_PORT/);
  });

  it('falls back to APP_PORT (set by the Dapr CLI) when PORT is unset', () => {
    expect(parseEnv(baseEnvSchema, { APP_PORT: '6001' }).PORT).toBe(6001);
    expect(parseEnv(baseEnvSchema, { APP_PORT: '6001', PORT: '7001' }).PORT).toBe(7001);
  });

  it('reads boolean flags strictly', () => {
    expect(parseEnv(baseEnvSchema, { MIGRATE_ON_START: 'true' }).MIGRATE_ON_START).toBe(true);
    expect(parseEnv(baseEnvSchema, { MIGRATE_ON_START: '' }).MIGRATE_ON_START).toBe(false);
    expect(() => parseEnv(baseEnvSchema, { MIGRATE_ON_START: 'yes please' })).toThrow(/MIGRATE_ON_START/);
  });
});
