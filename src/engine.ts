/**
 * The engines ElastiCache runs replication groups on.
 */
export enum CacheEngine {
  /** Redis OSS (engine `redis`), versions 4.0.10 to 7.1. */
  REDIS = 'redis',
  /** Valkey (engine `valkey`), versions 7.2 and later. */
  VALKEY = 'valkey',
}

/**
 * A Redis OSS version ElastiCache offers for node-based clusters ("Supported engines and versions",
 * ElastiCache user guide). Redis OSS ends at 7.1: later versions are Valkey's (`ValkeyEngineVersion`).
 */
export class RedisEngineVersion {
  /** Redis OSS 4.0.10, the oldest ElastiCache still runs and the first with encryption. */
  public static readonly VER_4_0_10 = new RedisEngineVersion('4.0.10');
  /** Redis OSS 5.0.0 (deprecated by ElastiCache: use 5.0.6). */
  public static readonly VER_5_0_0 = new RedisEngineVersion('5.0.0');
  /** Redis OSS 5.0.3 (deprecated by ElastiCache: use 5.0.6). */
  public static readonly VER_5_0_3 = new RedisEngineVersion('5.0.3');
  /** Redis OSS 5.0.4 (deprecated by ElastiCache: use 5.0.6). */
  public static readonly VER_5_0_4 = new RedisEngineVersion('5.0.4');
  /** Redis OSS 5.0.5 (deprecated by ElastiCache: use 5.0.6). */
  public static readonly VER_5_0_5 = new RedisEngineVersion('5.0.5');
  /** Redis OSS 5.0.6. */
  public static readonly VER_5_0_6 = new RedisEngineVersion('5.0.6');
  /** Redis OSS 6.0. */
  public static readonly VER_6_0 = new RedisEngineVersion('6.0');
  /** Redis OSS 6.2. */
  public static readonly VER_6_2 = new RedisEngineVersion('6.2');
  /** The newest Redis OSS 6 (`6.x`). */
  public static readonly VER_6_X = new RedisEngineVersion('6.x');
  /** Redis OSS 7.0. */
  public static readonly VER_7_0 = new RedisEngineVersion('7.0');
  /** Redis OSS 7.1, the last Redis OSS version. */
  public static readonly VER_7_1 = new RedisEngineVersion('7.1');

  private constructor(
    /** The version as ElastiCache's `EngineVersion` takes it, e.g. `7.1`. */
    public readonly version: string,
  ) {}
}

/**
 * A Valkey version ElastiCache offers for node-based clusters ("Engine versions and upgrading in
 * ElastiCache", ElastiCache user guide, which describes 7.2, 8.0, 8.1, 8.2, 9.0 and 9.1).
 */
export class ValkeyEngineVersion {
  /** Valkey 7.2 (parameter group family `valkey7`). */
  public static readonly VER_7_2 = new ValkeyEngineVersion('7.2');
  /** Valkey 8.0 (parameter group family `valkey8`). */
  public static readonly VER_8_0 = new ValkeyEngineVersion('8.0');
  /** Valkey 8.1 (parameter group family `valkey8`). */
  public static readonly VER_8_1 = new ValkeyEngineVersion('8.1');
  /** Valkey 8.2 (parameter group family `valkey8`). */
  public static readonly VER_8_2 = new ValkeyEngineVersion('8.2');
  /** Valkey 9.0 (parameter group family `valkey9`). Its snapshots (RDB 80) do not load into Valkey 8. */
  public static readonly VER_9_0 = new ValkeyEngineVersion('9.0');
  /** Valkey 9.1 (parameter group family `valkey9`). */
  public static readonly VER_9_1 = new ValkeyEngineVersion('9.1');

  private constructor(
    /** The version as ElastiCache's `EngineVersion` takes it, e.g. `8.0`. */
    public readonly version: string,
  ) {}
}

/**
 * The engine and engine version of a replication group: Redis OSS or Valkey.
 */
export class ElastiCacheEngine {
  /** Redis OSS at one of the versions ElastiCache offers. */
  public static redis(version: RedisEngineVersion): ElastiCacheEngine {
    return new ElastiCacheEngine(CacheEngine.REDIS, version.version);
  }

  /** Valkey at one of the versions ElastiCache offers. New Valkey groups set `TransitEncryptionEnabled` explicitly. */
  public static valkey(version: ValkeyEngineVersion): ElastiCacheEngine {
    return new ElastiCacheEngine(CacheEngine.VALKEY, version.version);
  }

  /**
   * An engine from its parts, for the deprecated `engineVersion` string (which may be a token).
   * @internal
   */
  public static _of(engine: CacheEngine, engineVersion: string): ElastiCacheEngine {
    return new ElastiCacheEngine(engine, engineVersion);
  }

  private constructor(
    /** The engine (`Engine`). */
    public readonly engine: CacheEngine,
    /** The engine version (`EngineVersion`), e.g. `8.0`. */
    public readonly engineVersion: string,
  ) {}

  /** `Redis OSS 7.1` or `Valkey 8.0`, for messages. */
  public toString(): string {
    return `${this.engine === CacheEngine.VALKEY ? 'Valkey' : 'Redis OSS'} ${this.engineVersion}`;
  }
}
