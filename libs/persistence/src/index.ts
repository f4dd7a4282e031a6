export * from './ports/entities';
export * from './ports/owner-scope';
export * from './ports/repositories';
export { SNIPPET_CHARS } from './search/snippet';
export * from './persistence.module';
export * from './sqlite/sqlite-backup';
