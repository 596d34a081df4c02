// The HTTP pieces both services' apps are built from, one job per module.
export * from './auth';
export * from './body';
export * from './dapr-callbacks';
export * from './errors';
export * from './logging';
export * from './params';
export * from './problem';
export * from './read-routes';
export * from './version';
