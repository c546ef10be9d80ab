export * from './auth';
export * from './backup';
export * from './export-bucket';
export * from './redis-snapshot';
export * from './replication-group';
export * from './restore';
export * from './scheduled-export';
export * from './windows';
