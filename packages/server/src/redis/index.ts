export { createRedisAdapter, type RedisAdapterOptions } from './redis-adapter'
