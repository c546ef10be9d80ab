export * from './auth';
export * from './backup';
export * from './replication-group';
export * from './restore';
export * from './windows';
