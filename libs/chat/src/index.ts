export * from './chat.module';
export * from './dto/send-message.dto';
export * from './dto/thread.dto';
export * from './generation/generation.service';
export * from './generation/thread-event-bus';
export * from './generation/thread-events';
export * from './presenters';
export * from './thread.service';
