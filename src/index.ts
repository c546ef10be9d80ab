export * from './auth';
export * from './backup';
export * from './redis-snapshot';
export * from './replication-group';
export * from './restore';
export * from './windows';
