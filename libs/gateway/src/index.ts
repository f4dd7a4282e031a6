export * from './confab-io.adapter';
export * from './gateway.module';
export * from './socket-events';
export { MAX_CONNECTIONS_PER_USER } from './socket-connections';
