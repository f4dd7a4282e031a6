export * from './confab-io.adapter';
export * from './gateway.module';
export * from './socket-events';
