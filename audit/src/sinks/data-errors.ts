import { ValidationError } from 'sequelize';

/*
 * The one answer to "did the database refuse the values themselves?" for both write paths: the same
 * event would fail the same way every time, so it goes to the dead letters instead of being retried.
 * Anything else (connection, schema, sidecar) may heal, and is retried.
 */

/** MySQL/MariaDB: NOT NULL violated, out of range, truncated, bad date, bad string, too long. */
const MYSQL_DATA_ERRNOS = new Set([1048, 1264, 1265, 1292, 1366, 1406]);
/** SQL Server: conversion failures, NULL into NOT NULL, duplicate key, truncation. */
const MSSQL_DATA_ERRNOS = new Set([241, 242, 515, 2628, 8152]);
/** PostgreSQL: SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
const PG_DATA_SQLSTATE = /^2[23][0-9A-Z]{3}$/;

/** For a Sequelize error: its driver error's code. */
export function isDataError(err: unknown): boolean {
  if (err instanceof ValidationError) return true;
  const parent = (err as { parent?: { code?: unknown; errno?: unknown; number?: unknown } }).parent;
  if (!parent) return false;
  return (
    (typeof parent.code === 'string' && PG_DATA_SQLSTATE.test(parent.code)) ||
    MYSQL_DATA_ERRNOS.has(Number(parent.errno)) ||
    MSSQL_DATA_ERRNOS.has(Number(parent.number))
  );
}

/** For the SQL binding, which reports the driver's error as text: the same codes, read from the message. */
export function isDataErrorMessage(message: string): boolean {
  const sqlstate = /SQLSTATE ([0-9A-Z]{5})/.exec(message)?.[1];
  const mysql = /Error (\d{4})\b/.exec(message)?.[1];
  return (
    (sqlstate !== undefined && PG_DATA_SQLSTATE.test(sqlstate)) ||
    (mysql !== undefined && MYSQL_DATA_ERRNOS.has(Number(mysql)))
  );
}
