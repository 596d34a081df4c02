import { ValidationError } from 'sequelize';
import { isDataError, isDataErrorMessage } from './data-errors';

const driverError = (parent: object) => Object.assign(new Error('write failed'), { parent });

describe('telling refused data from an outage', () => {
  it('reads the driver codes of a Sequelize error', () => {
    expect(isDataError(driverError({ code: '22001' }))).toBe(true); // PostgreSQL: value too long
    expect(isDataError(driverError({ code: '23502' }))).toBe(true); // PostgreSQL: NOT NULL
    expect(isDataError(driverError({ errno: 1406 }))).toBe(true); // MySQL: data too long
    expect(isDataError(driverError({ number: 8152 }))).toBe(true); // SQL Server: truncation
    expect(isDataError(new ValidationError('bad', []))).toBe(true);
    expect(isDataError(driverError({ code: '08006' }))).toBe(false); // PostgreSQL: connection failure
    expect(isDataError(driverError({ code: 'ECONNREFUSED' }))).toBe(false);
    expect(isDataError(new Error('no parent'))).toBe(false);
  });

  it("reads the same codes from the SQL binding's error text", () => {
    expect(isDataErrorMessage('error executing INSERT: ERROR: value too long (SQLSTATE 22001)')).toBe(true);
    expect(isDataErrorMessage("Error 1406 (22001): Data too long for column 'source'")).toBe(true);
    expect(isDataErrorMessage('failed to connect to `host=127.0.0.1`: dial error (SQLSTATE 08006)')).toBe(false);
    expect(isDataErrorMessage('binding audit-db exec failed: context deadline exceeded')).toBe(false);
  });
});
